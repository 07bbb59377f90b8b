// A layout value's journey between sessions and frontends (argv: renderer, step, file):
//   save  draw two described boxes, copy/paste the node, reload the page (the frontend restores the
//         open workflow), then write the serialised workflow to FILE;
//   load  load the workflow in FILE (saved by the other frontend) and report what the editor shows.
// Prints one JSON object (driver.mjs); test_box_editor.py makes the assertions.
import { readFile, writeFile } from 'node:fs/promises';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

/** Every layout node: id, widget value, the editor's row texts (read through the DOM). */
async function layoutNodes(page) {
  await L.tagEditors(page);
  const nodes = await page.evaluate((cls) => window.app.graph.nodes.filter((n) => n.type === cls).map((n) => ({
    id: n.id, value: n.widgets.find((w) => w.name === 'layout').value,
    widgetType: n.widgets.find((w) => w.name === 'layout').type,
  })), L.NODE_CLASS);
  for (const n of nodes) {
    n.rows = await L.editorLocator(page, n.id).locator('.deig-be-row-text').evaluateAll((els) => els.map((e) => e.value));
  }
  return nodes;
}

await runBrowser(async ({ page, baseUrl, args }) => {
  const [renderer, step, file] = args;
  await L.prepareSettings(baseUrl, { vueNodes: renderer === 'vue' });
  await openComfy(page, baseUrl);
  const out = { renderer, step };
  if (step === 'load') {
    const wf = JSON.parse(await readFile(file, 'utf8'));
    await page.evaluate(async (wf) => { await window.app.loadGraphData(wf); }, wf);
    const ids = await page.evaluate((cls) => window.app.graph.nodes.filter((n) => n.type === cls).map((n) => n.id), L.NODE_CLASS);
    for (const id of ids) await L.waitCanvasStable(page, id);
    out.loaded = await layoutNodes(page);
    out.reserialised = await page.evaluate((cls) => window.app.graph.serialize().nodes
      .filter((n) => n.type === cls).map((n) => n.widgets_values), L.NODE_CLASS);
    return out;
  }

  const id = await L.addLayoutNode(page, { height: 640 });
  await L.dragNorm(page, id, [0.1, 0.1], [0.5, 0.6]);
  await L.waitBoxes(page, id, 1);
  await page.keyboard.type('a red sports car');
  await L.dragNorm(page, id, [0.55, 0.3], [0.9, 0.9]);
  await L.waitBoxes(page, id, 2);
  await page.keyboard.type('a small brown dog');
  await page.waitForFunction((id) => {
    const v = window.app.graph.getNodeById(id).widgets.find((w) => w.name === 'layout').value;
    return v.includes('a small brown dog');
  }, id, { polling: 50 });
  await page.evaluate(() => document.activeElement?.blur());
  out.original = (await L.editorState(page, id)).value;

  // Copy and paste the node through the canvas's own clipboard path (what Ctrl+C / Ctrl+V run).
  out.pasteIds = await page.evaluate((id) => {
    const app = window.app, canvas = app.canvas;
    canvas.deselectAll?.();
    canvas.selectNode(app.graph.getNodeById(id));
    const before = new Set(app.graph.nodes.map((n) => n.id));
    canvas.copyToClipboard();
    canvas.graph_mouse = [700, 200];
    canvas.pasteFromClipboard();
    return app.graph.nodes.filter((n) => !before.has(n.id)).map((n) => n.id);
  }, id);
  for (const pid of out.pasteIds) await L.waitCanvasStable(page, pid);
  out.afterPaste = await layoutNodes(page);

  // Reload: the frontend puts the open workflow back (its "restore previous workflow" path).
  await page.evaluate(() => window.app.extensionManager?.workflow?.activeWorkflow?.changeTracker?.captureCanvasState?.()
    ?? window.app.extensionManager?.workflow?.activeWorkflow?.changeTracker?.checkState?.());
  await page.reload({ waitUntil: 'domcontentloaded' });
  await openComfy(page, baseUrl);
  await page.waitForFunction((cls) => window.app.graph.nodes.filter((n) => n.type === cls).length === 2, L.NODE_CLASS, { polling: 100 });
  const ids = await page.evaluate((cls) => window.app.graph.nodes.filter((n) => n.type === cls).map((n) => n.id), L.NODE_CLASS);
  for (const i of ids) await L.waitCanvasStable(page, i);
  out.afterReload = await layoutNodes(page);
  const wf = await page.evaluate(() => window.app.graph.serialize());
  await writeFile(file, JSON.stringify(wf));
  out.savedNodes = wf.nodes.filter((n) => n.type === L.NODE_CLASS)
    .map((n) => ({ widgets_values: n.widgets_values, widgets_values_named: n.widgets_values_named ?? null }));
  return out;
}, { timeout: 60000, viewport: L.VIEWPORT });
