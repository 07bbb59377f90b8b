// The pack's loaders say on the node which model file is missing and where it goes (argv: MODE
// MISSING_NAME PRESENT_NAME): add DEIG Model Loader and DEIG T5 Encoder Loader, choose MISSING_NAME on the model
// loader (as a workflow from elsewhere would name it), wait for the note, and read it with where it
// sits on the page; then choose PRESENT_NAME, a file that is there, and read the note again. Screenshots of both.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

const NOTE = 'deig_model_file_note';

async function view(page, id) {
  return page.evaluate(async ({ id, NOTE }) => {
    const app = window.app;
    const node = app.graph.getNodeById(id);
    const el = node.widgets.find((w) => w.name === NOTE)?.element;
    const r = el?.getBoundingClientRect();
    const [x, y] = app.canvas.ds.convertOffsetToCanvas([node.pos[0], node.pos[1]]);
    const c = app.canvas.canvas.getBoundingClientRect();
    const s = app.canvas.ds.scale;
    const vueNode = document.querySelector(`[data-node-id="${id}"]`)?.getBoundingClientRect();
    const nodeRect = vueNode ? { left: vueNode.left, top: vueNode.top, right: vueNode.right, bottom: vueNode.bottom }
      : { left: c.left + x, top: c.top + y, right: c.left + x + node.size[0] * s, bottom: c.top + y + node.size[1] * s };
    const { output } = await app.graphToPrompt();
    return {
      text: el?.innerText ?? null,
      visible: !!r && r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden',
      noteRect: r ? { left: r.left, top: r.top, right: r.right, bottom: r.bottom } : null,
      nodeRect,
      value: node.widgets.find((w) => w.name === 'deig_name' || w.name === 't5_name').value,
      options: [...(node.widgets.find((w) => w.name === 'deig_name' || w.name === 't5_name').options.values ?? [])],
      promptInputs: output[String(id)]?.inputs ?? null,
      widgetsValues: node.serialize().widgets_values,
    };
  }, { id, NOTE });
}

/** Choose `value` on the combo `name` of node `id`, as picking it in the list does (value, then callback). */
async function choose(page, id, name, value) {
  await page.evaluate(({ id, name, value }) => {
    const w = window.app.graph.getNodeById(id).widgets.find((k) => k.name === name);
    w.value = value;
    w.callback?.(value);
  }, { id, name, value });
}

const frames = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const [modeArg, missingName, present] = args;
  const mode = modeArg === 'vue' ? 'vue' : 'classic';
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  await openComfy(page, baseUrl);
  await page.evaluate(() => { window.app.graph.clear(); window.app.canvas.ds.offset = [0, 0]; window.app.canvas.ds.scale = 1; });
  const deig = await L.addNode(page, 'DEIG_ModelLoader', 80, 120);
  const t5 = await L.addNode(page, 'DEIG_T5Loader', 520, 120);
  await page.evaluate(() => window.app.graph.setDirtyCanvas(true, true));
  await choose(page, deig, 'deig_name', missingName);
  await page.waitForFunction(({ id, NOTE, name }) => {
    const n = window.app.graph.getNodeById(id);
    return (n.widgets.find((w) => w.name === NOTE)?.element?.innerText ?? '').includes(name);
  }, { id: deig, NOTE, name: missingName }, { polling: 100, timeout: 20000 });
  await frames(page);   // the renderer places the grown node before the screenshot
  const out = { mode, present, missing: { deig: await view(page, deig), t5: await view(page, t5) } };
  await page.screenshot({ path: join(artifactsDir, `missing_${mode}.png`) });
  await choose(page, deig, 'deig_name', present);
  await page.waitForFunction(({ id, NOTE }) => {
    const n = window.app.graph.getNodeById(id);
    return (n.widgets.find((w) => w.name === NOTE)?.element?.innerText ?? 'x') === '';
  }, { id: deig, NOTE }, { polling: 100, timeout: 20000 });
  await frames(page);
  out.present_ = await view(page, deig);
  await page.screenshot({ path: join(artifactsDir, `present_${mode}.png`) });
  return out;
}, { viewport: L.VIEWPORT });
