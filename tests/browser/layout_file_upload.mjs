// The upload button of the layout-file nodes, used as a person does (argv: MODE NODE_CLASS FILE TOAST_TEXT):
// add DEIG Layouts from File and DEIG Layout from File, click the NODE_CLASS one's button with the real
// mouse, pick FILE in the file chooser, wait for the toast that says TOAST_TEXT, and read what the page
// shows (toast, file lists, chosen files) and what a saved workflow / API prompt holds. One upload per
// run: headless Chromium under playwright does not reliably hand over a second intercepted file chooser
// in one browser. Prints one JSON object; the test asserts.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

const LABEL = 'choose a layout file to upload';

/** Screen point of node `id`'s upload button: its DOM element (Vue nodes) or its canvas row (classic). */
async function buttonPoint(page, id, mode) {
  if (mode === 'vue') {
    const box = await page.locator(`[data-node-id="${id}"]`).getByText(LABEL).boundingBox();
    return [box.x + box.width / 2, box.y + box.height / 2];
  }
  return page.evaluate(({ id, label }) => {
    const app = window.app;
    const node = app.graph.getNodeById(id);
    const w = node.widgets.find((k) => k.name === label);
    const y = (w.y ?? w.last_y) + (w.computedHeight ?? window.LiteGraph.NODE_WIDGET_HEIGHT) / 2;
    const [cx, cy] = app.canvas.ds.convertOffsetToCanvas([node.pos[0] + node.size[0] / 2, node.pos[1] + y]);
    const r = app.canvas.canvas.getBoundingClientRect();
    return [r.left + cx, r.top + cy];
  }, { id, label: LABEL });
}

/** Hand `page`'s file choosers to nextChooser(). Called once, before the page loads: playwright then
 * switches Chromium's chooser interception on long before any click (switching it on right before
 * a click races with it, and the chooser opens un-intercepted). */
function watchChoosers(page) {
  page.__deigChoosers = [];
  page.on('filechooser', (c) => page.__deigChoosers.shift()?.(c));
}

function nextChooser(page) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no file chooser opened within 20 s of the click')), 20000);
    page.__deigChoosers.push((c) => { clearTimeout(timer); resolve(c); });
  });
}

/** Lines of the page's text that contain `text` (a toast's summary and detail; the frontends render
 * toasts differently, 1.32 with PrimeVue, 1.58 its own, so read what a person reads). */
async function linesWith(page, text) {
  return page.evaluate((text) => document.body.innerText.split('\n').filter((l) => l.includes(text)), text);
}

/** Click the button, choose `file`; wait for the toast that says `expect`. */
async function upload(page, id, mode, file, expect) {
  if ((await linesWith(page, expect)).length) throw new Error(`"${expect}" is on the page before the upload`);
  const [x, y] = await buttonPoint(page, id, mode);
  const [chooser] = await Promise.all([nextChooser(page), page.mouse.click(x, y)]);
  const accept = await chooser.element().getAttribute('accept');
  await chooser.setFiles(file);
  await page.waitForFunction((t) => document.body.innerText.includes(t), expect, { timeout: 20000, polling: 100 });
  return { accept, toast: (await linesWith(page, expect)).join('\n') };
}

async function nodeView(page, id) {
  return page.evaluate(async (id) => {
    const app = window.app;
    const node = app.graph.getNodeById(id);
    const file = node.widgets.find((w) => w.name === 'file');
    const { output } = await app.graphToPrompt();
    return {
      widgetNames: node.widgets.map((w) => w.name),
      file: file.value,
      options: [...(file.options.values ?? [])],
      widgetsValues: node.serialize().widgets_values,
      promptInputs: output[String(id)]?.inputs ?? null,
    };
  }, id);
}

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const [modeArg, nodeClass, file, expect] = args;
  const mode = modeArg === 'vue' ? 'vue' : 'classic';
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  watchChoosers(page);
  await openComfy(page, baseUrl);
  await page.evaluate(() => { window.app.graph.clear(); window.app.canvas.ds.offset = [0, 0]; window.app.canvas.ds.scale = 1; });
  const ids = {
    DEIG_LayoutsFromFile: await L.addNode(page, 'DEIG_LayoutsFromFile', 80, 120),
    DEIG_LayoutFromFile: await L.addNode(page, 'DEIG_LayoutFromFile', 520, 120),
  };
  await page.evaluate(() => window.app.graph.setDirtyCanvas(true, true));
  const id = ids[nodeClass];
  if (mode === 'vue') await page.locator(`[data-node-id="${id}"]`).getByText(LABEL).waitFor({ state: 'visible' });
  const view = async () => Object.fromEntries(await Promise.all(
    Object.entries(ids).map(async ([cls, nid]) => [cls, await nodeView(page, nid)])));
  const out = { mode, before: await view() };
  await page.screenshot({ path: join(artifactsDir, `${nodeClass}_before_${mode}.png`) });
  out.upload = await upload(page, id, mode, file, expect);
  out.after = await view();
  await page.screenshot({ path: join(artifactsDir, `${nodeClass}_after_${mode}.png`) });
  return out;
}, { viewport: L.VIEWPORT });
