// The upload button of the layout-file nodes, used as a person does (argv: MODE NODE_CLASS FILE TOAST_TEXT
// [METHOD]): add DEIG Layouts from File and DEIG Layout from File, click the NODE_CLASS one's button with
// the real mouse and pick FILE in the file chooser (METHOD "button", the default), or drop FILE on that
// node (METHOD "drop": drag events carrying the file, dispatched where the node is, since a headless
// browser has no desktop to drag from); wait for the toast that says TOAST_TEXT, and read what the page
// shows (toast, file lists, chosen files) and what a saved workflow / API prompt holds. One upload per
// run. METHOD "drop-chained": the node class already has drag handlers of its own (as another
// extension may give it) before the node is made; a text file is dropped first (theirs to take), then
// FILE. Prints one JSON object; the test asserts.
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
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
  return page.evaluate(toastLines, text);
}

/** In the page: the shown texts that say `text` (each text's element, as a person reads it), leaving
 * out the nodes' own notes, which say it too. */
function toastLines(text) {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walk.nextNode(); t; t = walk.nextNode()) {
    const el = t.parentElement;
    if (!t.data.includes(text) || el.closest('.deig-node-note') || !el.getClientRects().length) continue;
    out.push(el.innerText);
  }
  return out;
}

/** Screen point in the middle of node `id`'s body. */
async function nodePoint(page, id, mode) {
  if (mode === 'vue') {
    const box = await page.locator(`[data-node-id="${id}"]`).boundingBox();
    return [box.x + box.width / 2, box.y + box.height / 2];
  }
  return page.evaluate((id) => {
    const app = window.app;
    const node = app.graph.getNodeById(id);
    const [cx, cy] = app.canvas.ds.convertOffsetToCanvas([node.pos[0] + node.size[0] / 2, node.pos[1] + node.size[1] / 2]);
    const r = app.canvas.canvas.getBoundingClientRect();
    return [r.left + cx, r.top + cy];
  }, id);
}

/** Drop `file` on the page at (x, y): dragenter, dragover, drop on whatever element is there. */
async function dropFile(page, [x, y], file) {
  const text = await readFile(file, 'utf8');
  await page.evaluate(({ x, y, name, text }) => {
    const data = new DataTransfer();
    data.items.add(new File([text], name, { type: 'application/json' }));
    const target = document.elementFromPoint(x, y);
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, clientX: x, clientY: y, dataTransfer: data }));
    }
  }, { x, y, name: basename(file), text });
}

/** Drag handlers of the node class's own, counting what reaches them (installed before the node exists). */
async function installOtherDragHandlers(page, nodeClass) {
  await page.evaluate((cls) => {
    const proto = window.LiteGraph.registered_node_types[cls].prototype;
    window.__deigOther = { over: 0, drop: [] };
    proto.onDragOver = function () { window.__deigOther.over++; return true; };
    proto.onDragDrop = function (e) {
      window.__deigOther.drop.push([...(e?.dataTransfer?.files ?? [])].map((f) => f.name));
      return true;
    };
  }, nodeClass);
}

/** Upload `file` to node `id` (button + chooser, or a drop); wait for the toast that says `expect`. */
async function upload(page, id, mode, file, expect, method) {
  if ((await linesWith(page, expect)).length) throw new Error(`"${expect}" is on the page before the upload`);
  let accept = null;
  if (method === 'drop' || method === 'drop-chained') {
    await dropFile(page, await nodePoint(page, id, mode), file);
  } else {
    const [x, y] = await buttonPoint(page, id, mode);
    const [chooser] = await Promise.all([nextChooser(page), page.mouse.click(x, y)]);
    accept = await chooser.element().getAttribute('accept');
    await chooser.setFiles(file);
  }
  await page.waitForFunction(`(${toastLines})(${JSON.stringify(expect)}).length > 0`, null, { timeout: 20000, polling: 100 });
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
  const [modeArg, nodeClass, file, expect, method = 'button'] = args;
  const mode = modeArg === 'vue' ? 'vue' : 'classic';
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  watchChoosers(page);
  await openComfy(page, baseUrl);
  await page.evaluate(() => { window.app.graph.clear(); window.app.canvas.ds.offset = [0, 0]; window.app.canvas.ds.scale = 1; });
  if (method === 'drop-chained') await installOtherDragHandlers(page, nodeClass);
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
  if (method === 'drop-chained') {
    const notes = join(artifactsDir, 'notes.txt');
    await writeFile(notes, 'not a layout\n');
    await dropFile(page, await nodePoint(page, id, mode), notes);
    out.otherAfterText = await page.evaluate(() => structuredClone(window.__deigOther));
  }
  await page.screenshot({ path: join(artifactsDir, `${nodeClass}_before_${mode}.png`) });
  out.upload = await upload(page, id, mode, file, expect, method);
  if (method !== 'drop-chained') {   // that run asks about the drag handlers, not the note
    // the toast fades (4 s, an error's 10 s); the node's note still says what the file holds
    await page.waitForFunction(`(${toastLines})(${JSON.stringify(expect)}).length === 0`, null, { timeout: 30000, polling: 200 });
    out.noteAfterToast = await page.evaluate((id) => window.app.rootGraph.getNodeById(id).widgets
      .find((w) => w.name === 'deig_layout_file_note')?.element?.innerText ?? null, id);
    await page.screenshot({ path: join(artifactsDir, `${nodeClass}_after_toast_${mode}.png`) });
  }
  out.graphNodes = await page.evaluate(() => window.app.rootGraph.nodes.map((n) => n.type).sort());
  if (method === 'drop-chained') out.otherAfterLayout = await page.evaluate(() => structuredClone(window.__deigOther));
  out.after = await view();
  await page.screenshot({ path: join(artifactsDir, `${nodeClass}_after_${mode}.png`) });
  return out;
}, { viewport: L.VIEWPORT });
