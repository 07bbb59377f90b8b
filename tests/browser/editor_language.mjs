// The box editor in the user's frontend language (argv: MODE LOCALE...): for each LOCALE in turn, set
// the frontend's Language setting (Comfy.Locale) as the settings dialog does, open the page, add a
// layout node with one box without a description, select it, and read what a person reads: the toolbar, the
// status line, the notes and the detail panel, plus the tooltips of the toolbar buttons. One
// screenshot per locale. The last LOCALE stays set.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

async function setLocale(baseUrl, locale) {
  const res = await fetch(`${baseUrl}/api/settings/Comfy.Locale`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(locale),
  });
  if (!res.ok) throw new Error(`POST /api/settings/Comfy.Locale -> ${res.status}`);
}

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const [modeArg, ...locales] = args;
  const mode = modeArg === 'vue' ? 'vue' : 'classic';
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  const out = { mode, seen: {} };
  for (const locale of locales) {
    await setLocale(baseUrl, locale);
    await openComfy(page, baseUrl);
    const id = await L.addLayoutNode(page);
    await page.evaluate((id) => {
      const w = window.app.graph.getNodeById(id).widgets.find((x) => x.name === 'layout');
      w.value = '[{"box": [0.1, 0.1, 0.6, 0.7], "text": ""}]';
    }, id);
    await L.waitBoxes(page, id, 1);
    const root = L.editorLocator(page, id);
    await root.locator('.deig-be-note').first().waitFor({ state: 'visible' });
    await root.locator('.deig-be-list .deig-be-badge').first().click();   // select the box, as a person does
    await root.locator('.deig-be-detail-title.deig-be-warn').waitFor({ state: 'visible' });
    out.seen[locale] = await root.evaluate((r) => ({
      frontendLocale: window.app.extensionManager?.setting?.get?.('Comfy.Locale') ?? null,
      toolbar: [...r.querySelectorAll('.deig-be-toolbar button, .deig-be-toolbar label')].map((b) => b.textContent.trim()),
      tooltips: [...r.querySelectorAll('.deig-be-toolbar [title]')].map((b) => b.title),
      status: r.querySelector('.deig-be-status').innerText,
      note: r.querySelector('.deig-be-note').innerText,
      detail: r.querySelector('.deig-be-detail-title').innerText,
      placeholder: r.querySelector('.deig-be-text').placeholder,
    }));
    await page.screenshot({ path: join(artifactsDir, `editor_${locale}_${mode}.png`) });
  }
  return out;
}, { viewport: L.VIEWPORT });
