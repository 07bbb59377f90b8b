// Box editor in its graph context and its dialogs (argv: MODE BENCH_JSON_PATH):
// aspect ratio from the node's widgets / a downstream EmptyLatentImage / a LoadImage on the masks
// input, background from a LoadImage or the last output image downstream, import (DEIG-Bench entry,
// file, append, invalid input), export (text, download, clipboard), the raw JSON field, and the
// read-only state when the layout input is linked. Prints one JSON object; the test asserts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

async function setLayout(page, id, value) {
  await page.evaluate(({ id, value }) => {
    const w = window.app.graph.getNodeById(id).widgets.find((k) => k.name === 'layout');
    w.value = value;
  }, { id, value });
}

await runBrowser(async ({ page, context, baseUrl, artifactsDir, args }) => {
  const mode = args[0] === 'vue' ? 'vue' : 'classic';
  const benchText = await readFile(args[1], 'utf8');
  const out = { mode };
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  await openComfy(page, baseUrl);

  // ---- aspect ratio: node widgets, then a downstream EmptyLatentImage, then sync ----
  let id = await L.addLayoutNode(page, { width: 480, height: 760 });
  out.aspectDefault = await L.aspect(page, id);
  await page.evaluate((id) => {
    const w = window.app.graph.getNodeById(id).widgets.find((k) => k.name === 'width');
    w.value = 768;
    w.callback?.(768);
  }, id);
  out.aspectWidgets = await L.waitAspect(page, id, 768 / 512, 'width widget');
  const enc = await L.addNode(page, 'DEIG_Encode', 700, 130);
  const ks = await L.addNode(page, 'KSampler', 1000, 130);
  const lat = await L.addNode(page, 'EmptyLatentImage', 700, 500, { width: 512, height: 896 });
  await L.connect(page, id, 0, enc, 'layout');
  await L.connect(page, enc, 0, ks, 'positive');
  await L.connect(page, lat, 0, ks, 'latent_image');
  // No pointer over the editor: the size follows the graph at once.
  await page.mouse.move(5, 700);
  out.aspectLatent = await L.waitAspect(page, id, 512 / 896, 'EmptyLatentImage');
  out.statusLatent = await L.statusText(page, id);
  out.statusButtons = await L.editorLocator(page, id).locator('.deig-be-status button').count();
  out.ownAfterLatent = await page.evaluate((id) => {
    const n = window.app.graph.getNodeById(id);
    return [n.widgets.find((k) => k.name === 'width').value, n.widgets.find((k) => k.name === 'height').value];
  }, id);
  // The latent's size changed by a script (or a loaded workflow): followed without any pointer event.
  await L.setWidgets(page, lat, { height: 384 });
  out.aspectLatentChanged = await L.waitAspect(page, id, 512 / 384, 'EmptyLatentImage height set by script');

  // ---- background: the generated image itself after a real run (the image a DEIG Preview Layout
  // draws on, shown by its own Preview Image), never the preview's output with the boxes drawn in ----
  id = await L.addLayoutNode(page, { width: 480, height: 760 });
  await setLayout(page, id, '[{"box": [0.1, 0.1, 0.4, 0.5], "text": "a green field"}]');
  const empty = await L.addNode(page, 'EmptyImage', 700, 500, { width: 640, height: 360, color: 0x00c000 });
  const prev = await L.addNode(page, 'DEIG_PreviewLayout', 700, 130);
  const pimg = await L.addNode(page, 'PreviewImage', 1000, 130);
  await L.connect(page, empty, 0, prev, 'image');
  await L.connect(page, id, 0, prev, 'layout');
  await L.connect(page, prev, 0, pimg, 'images');
  const plain = await L.addNode(page, 'PreviewImage', 1000, 420);
  await L.connect(page, empty, 0, plain, 'images');
  out.bgNodes = { boxed: pimg, plain };
  await page.mouse.click(1150, 650);
  await page.keyboard.press('Control+Enter');
  out.bgOutputPixel = await L.waitPixel(page, id, 0.9, 0.9, (p) => p[1] > 120 && p[0] < 80, 'output image as background');
  out.statusOutput = await L.statusText(page, id);
  // The two Preview Images report their outputs separately: wait for both (the background may come first).
  await page.waitForFunction(({ boxed, plain }) => [boxed, plain].every(
    (nid) => window.app.nodeOutputs?.[String(nid)]?.images?.[0]?.filename), out.bgNodes, { polling: 100, timeout: 60000 })
    .catch(() => {});   // the assertions say which one is missing
  out.bgFiles = await page.evaluate(({ boxed, plain }) => {
    const f = (nid) => window.app.nodeOutputs?.[String(nid)]?.images?.[0]?.filename ?? null;
    return { boxed: f(boxed), plain: f(plain) };
  }, out.bgNodes);
  await page.screenshot({ path: join(artifactsDir, `item9_background_${mode}.png`) });
  await L.editorLocator(page, id).locator('.deig-be-toggle', { hasText: 'image' }).locator('input').uncheck();
  out.bgOffPixel = await L.waitPixel(page, id, 0.9, 0.9, (p) => p[0] === 27 && p[1] === 27 && p[2] === 31, 'background off');

  // ---- aspect + background from a LoadImage feeding the masks input ----
  const uploaded = await L.uploadPlainImage(page, 'deig_box_editor_bg.png', 300, 600, '#1e50ff');
  id = await L.addLayoutNode(page, { width: 480, height: 760 });
  const load = await L.addNode(page, 'LoadImage', 700, 130, { image: uploaded });
  await L.connect(page, load, 1, id, 'masks');
  out.aspectLoadImage = await L.waitAspect(page, id, 0.5, 'LoadImage size');
  out.bgLoadPixel = await L.waitPixel(page, id, 0.5, 0.5, (p) => p[2] > 150 && p[0] < 80, 'LoadImage as background');
  out.statusLoad = await L.statusText(page, id);
  await page.screenshot({ path: join(artifactsDir, `context_${mode}.png`) });

  // ---- import: a DEIG-Bench entry by index, its caption into the connected DEIG Encode's prompt ----
  id = await L.addLayoutNode(page);
  const encode = await L.addNode(page, 'DEIG_Encode', 700, 130, { prompt: 'the old prompt' });
  await L.connect(page, id, 0, encode, 'layout');
  const ed = L.editorLocator(page, id);
  const promptOf = () => page.evaluate((e) => window.app.graph.getNodeById(e).widgets.find((k) => k.name === 'prompt').value, encode);
  await ed.getByRole('button', { name: 'Import/Export' }).click();
  const dlg = page.locator('dialog.deig-be-dialog');
  await dlg.waitFor({ state: 'visible' });
  await dlg.locator('.deig-be-io-text').fill(benchText);
  await dlg.locator('.deig-be-bench').waitFor({ state: 'visible' });
  await dlg.locator('.deig-be-bench input').fill('2');
  out.benchInfo = await dlg.locator('.deig-be-bench-info').innerText();
  out.setPromptLabel = await dlg.locator('.deig-be-set-prompt').innerText();
  out.setPromptChecked = await dlg.locator('.deig-be-set-prompt input').isChecked();
  await page.screenshot({ path: join(artifactsDir, `import_dialog_${mode}.png`) });
  await dlg.getByRole('button', { name: 'Import', exact: true }).click();
  await dlg.waitFor({ state: 'detached' });
  out.benchValue = (await L.editorState(page, id)).value;
  out.promptAfterImport = await promptOf();
  await page.screenshot({ path: join(artifactsDir, `item10_caption_${mode}.png`) });
  // One undo step in the editor takes back the boxes and the prompt; redo brings both.
  const mid = await L.toScreen(page, id, 0.99, 0.99);
  await page.mouse.click(mid.x, mid.y);
  await page.keyboard.press('Control+z');
  await L.waitBoxes(page, id, 0);
  out.promptAfterUndo = await promptOf();
  await page.keyboard.press('Control+Shift+z');
  await L.waitBoxes(page, id, JSON.parse(out.benchValue).length);
  out.promptAfterRedo = await promptOf();
  out.valueAfterRedo = (await L.editorState(page, id)).value;

  // ---- export: text, download, clipboard ----
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  await ed.getByRole('button', { name: 'Import/Export' }).click();
  await dlg.waitFor({ state: 'visible' });
  out.exportText = await dlg.locator('.deig-be-io-out').inputValue();
  const [download] = await Promise.all([page.waitForEvent('download'),
    dlg.getByRole('button', { name: 'Download .json' }).click()]);
  out.downloadName = download.suggestedFilename();
  out.downloadText = await readFile(await download.path(), 'utf8');
  await dlg.getByRole('button', { name: 'Copy' }).click();
  await dlg.locator('.deig-be-io-msg', { hasText: 'copied' }).waitFor();
  out.clipboard = await page.evaluate(() => navigator.clipboard.readText());

  // ---- import: invalid text is refused in place; a file is appended ----
  await dlg.locator('.deig-be-io-text').fill('[{"box": [0.2, 0.2, 0.1, 0.3], "text": "bad"}]');
  await dlg.getByRole('button', { name: 'Import', exact: true }).click();
  out.invalidImportMsg = await dlg.locator('section').first().locator('.deig-be-io-msg').innerText();
  out.dialogStillOpen = await dlg.isVisible();
  out.valueAfterInvalid = (await L.editorState(page, id)).value;
  await dlg.locator('.deig-be-io-text').fill('');
  const extra = '[{"box": [0.05, 0.05, 0.2, 0.2], "text": "a kite"}, {"box": [0.7, 0.05, 0.95, 0.3], "text": "the sun"}]';
  await dlg.locator('input[type="file"]').setInputFiles({ name: 'extra.json', mimeType: 'application/json', buffer: Buffer.from(extra) });
  await dlg.locator('.deig-be-io-msg', { hasText: '2 boxes ready' }).waitFor();
  await dlg.locator('input[value="append"]').check();
  await dlg.getByRole('button', { name: 'Import', exact: true }).click();
  await dlg.waitFor({ state: 'detached' });
  out.appendedValue = (await L.editorState(page, id)).value;

  // ---- raw JSON field: shows the value, takes edits, reports errors ----
  await ed.locator('.deig-be-toolbar').getByRole('button', { name: 'JSON', exact: true }).click();
  const raw = ed.locator('.deig-be-raw-text');
  out.rawShown = await raw.inputValue();
  const typed = '[{"box": [0.25, 0.25, 0.75, 0.75], "text": "typed by hand"}]';
  await raw.fill(typed);
  out.valueAfterRaw = (await L.editorState(page, id)).value;
  await raw.fill('[{"box": [0.25, 0.25');
  await ed.locator('.deig-be-error').waitFor({ state: 'visible' });
  out.rawErrorValue = (await L.editorState(page, id)).value;
  await raw.fill(typed);
  await ed.locator('.deig-be-error').waitFor({ state: 'hidden' });
  // Each raw edit is one undo step: fixed <- broken <- typed <- the appended layout.
  const c = await L.toScreen(page, id, 0.5, 0.5);
  await page.mouse.click(c.x, c.y);
  for (let k = 0; k < 3; k++) await page.keyboard.press('Control+z');
  const nAppended = JSON.parse(out.appendedValue).length;
  await L.waitBoxes(page, id, nAppended);
  out.valueAfterRawUndo = (await L.editorState(page, id)).value;

  // ---- linked layout input: read-only editor ----
  id = await L.addLayoutNode(page);
  const prim = await L.addNode(page, 'PrimitiveStringMultiline', 700, 130, { value: '[{"box": [0, 0, 0.5, 0.5], "text": "from a link"}]' });
  await L.connect(page, prim, 0, id, 'layout');
  // 1.58 hides the widget of a linked input altogether (stock behaviour for every widget, both renderers):
  // then there is no editor to use, which is read-only enough; elsewhere the editor says so.
  // The editor refreshes on the connection change; wait for its "linked" note or for the frontend to
  // have hidden it.
  out.linkedHidden = await page.waitForFunction((id) => {
    const el = document.querySelector(`[data-deig-node-id="${id}"]`);
    if (!el || !el.isConnected || !el.getClientRects().length) return 'hidden';
    const note = [...el.querySelectorAll('.deig-be-note')].find((n) => /linked/.test(n.textContent) && n.getClientRects().length);
    return note ? 'note' : false;
  }, id, { polling: 100 }).then((h) => h.jsonValue()) === 'hidden';
  if (!out.linkedHidden) {
    await L.dragNorm(page, id, [0.2, 0.2], [0.6, 0.6]);
    out.linkedAddDisabled = await L.editorLocator(page, id).getByRole('button', { name: '+ Box' }).isDisabled();
  }
  out.linkedValue = (await L.editorState(page, id)).value;
  return out;
}, { timeout: 60000, viewport: L.VIEWPORT });
