// Opens a DEIG node's help page where a user looks for it, in English and then with the frontend's
// language set to Chinese: on frontend 1.32.9 the node library (search the node, its "?" button), on
// 1.58.1 the "Node Info" button of the selected node (the right side panel's Info tab; its new node
// library has no help button). Reports the node's title on the canvas and the help text shown, with a
// screenshot of each. Args: FRONTEND NODE_ID EN_NAME ZH_NAME (the help page's title in each language).
// The language is set back to English.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';

const HELP = '.comfy-markdown-content, .node-help-content';   // the rendered help (1.58.1, 1.32.9)
const HEADING = '.comfy-markdown-content h1, .node-help-content h1';

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const [frontend, nodeId, ...names] = args;
  const setLocale = (lang) => page.evaluate((l) => window.app.extensionManager.setting.set('Comfy.Locale', l), lang);
  const shown = {};
  await openComfy(page, baseUrl);
  try {
    for (const [lang, name] of [['en', names[0]], ['zh', names[1]]]) {
      await setLocale(lang);
      await page.reload({ waitUntil: 'domcontentloaded' });
      await openComfy(page, baseUrl);
      const title = await page.evaluate((id) => {
        const app = window.app; app.graph.clear();
        const node = window.LiteGraph.createNode(id); node.pos = [520, 220]; app.graph.add(node);
        app.canvas.selectNode(node); app.canvas.setDirty(true, true);
        return node.title;
      }, nodeId);
      if (frontend === '1.32.9') {
        await page.evaluate(() => window.app.extensionManager.command.execute('Workspace.ToggleSidebarTab.node-library'));
        await page.locator('input.search-box-input').fill(title);   // the name the library lists
        const item = page.locator('.tree-leaf', { hasText: title }).first();
        await item.hover();
        await item.locator('.help-button').click();
      } else {
        await page.getByRole('button', { name: /^(Node Info|节点信息)$/ }).click();   // the selection toolbox's info button
      }
      const help = page.locator(HELP).filter({ hasText: name }).first();
      await help.waitFor({ state: 'visible' });
      await page.locator(HEADING).filter({ hasText: name }).first().waitFor({ state: 'visible' });
      await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].every((i) => i.complete),
        '.comfy-markdown-content img, .node-help-content img');   // loaded or failed, not pending
      await page.screenshot({ path: join(artifactsDir, `help_${lang}.png`) });
      shown[lang] = { title, help: await help.innerText(),
                      heading: await page.locator(HEADING).first().innerText(),
                      images: await help.locator('img').evaluateAll((imgs) => imgs.map((i) => ({ src: i.src, width: i.naturalWidth }))) };
      if (frontend === '1.32.9') await page.evaluate(() => window.app.extensionManager.command.execute('Workspace.ToggleSidebarTab.node-library'));
    }
  } finally {
    await setLocale('en').catch(() => {});
  }
  return { shown };
});
