// Box editor end to end, in one renderer (argv: "classic" or "vue"): draw, type, resize, move,
// delete, undo/redo, redraw, keyboard nudges, numeric edit, reorder, snap; save the workflow,
// reload the page, load it, queue it and read what the backend received; then a malformed value.
// Prints one JSON object (driver.mjs); test_box_editor.py makes the assertions.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

const HISTORY_TIMEOUT_MS = 60000;

async function value(page, id) {
  return (await L.editorState(page, id)).value;
}

async function rowInput(page, id, n) {
  return L.editorLocator(page, id).locator('.deig-be-row').nth(n - 1).locator('.deig-be-row-text');
}

async function waitValue(page, id, pred, what) {
  const handle = await page.waitForFunction(({ id, src }) => {
    const node = window.app.graph.getNodeById(id);
    let items;
    try { items = JSON.parse(node.widgets.find((x) => x.name === 'layout').value); } catch { return false; }
    return new Function('items', `return (${src})(items)`)(items) ? items : false;
  }, { id, src: pred.toString() }, { polling: 50 }).catch((e) => { throw new Error(`waiting for ${what}: ${e.message}`); });
  return handle.jsonValue();
}

async function pollHistory(baseUrl, predicate) {
  const deadline = Date.now() + HISTORY_TIMEOUT_MS;
  for (;;) {
    const res = await fetch(`${baseUrl}/api/history?max_items=20`);
    const hist = await res.json();
    for (const entry of Object.values(hist)) if (predicate(entry)) return entry;
    if (Date.now() > deadline) throw new Error(`no matching history entry after ${HISTORY_TIMEOUT_MS} ms: ${JSON.stringify(hist).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));   // poll interval of a condition wait, not a sync sleep
  }
}

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const mode = args[0] === 'vue' ? 'vue' : 'classic';
  const out = { mode, steps: {} };
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  // Every .js under web/js is listed by the server and imported by the frontend; the editor's
  // relative imports resolve to the same URLs, so each module should be requested once.
  const packRequests = [];
  const packUrl = args[1] || '/extensions/ComfyUI-DEIG/';
  const onRequest = (req) => { if (req.url().includes(packUrl)) packRequests.push(new URL(req.url()).pathname); };
  page.on('request', onRequest);
  await openComfy(page, baseUrl);
  out.vueNodesSetting = await page.evaluate(() => window.app.extensionManager.setting.get('Comfy.VueNodes.Enabled'));
  page.off('request', onRequest);
  out.load = {
    registered: await page.evaluate(() => window.app.extensions.some((e) => e.name === 'comfyui-deig.box-editor')),
    packModules: packRequests,
  };

  // Other nodes keep their own widgets (no global side effects): a prompt node's textarea stays.
  out.otherNode = await page.evaluate(() => {
    const n = window.LiteGraph.createNode('CLIPTextEncode');
    const w = n.widgets.find((k) => k.name === 'text');
    return { type: w.type, tag: w.element?.tagName ?? null, editor: !!w.element?.dataset?.deigBoxEditor };
  });

  // Layout node -> DEIG_LayoutToJSON (an output node, so the prompt executes the layout node).
  const id = await L.addLayoutNode(page);
  const sinkId = await page.evaluate((id) => {
    const app = window.app;
    const src = app.graph.getNodeById(id);
    const sink = window.LiteGraph.createNode('DEIG_LayoutToJSON');
    sink.pos = [src.pos[0] + src.size[0] + 60, src.pos[1]];
    app.graph.add(sink);
    src.connect(0, sink, 0);
    src.__deigProbe = 'same-node-object';
    return sink.id;
  }, id);
  await L.waitCanvasStable(page, id);
  const st0 = await L.editorState(page, id);
  out.widgetNames = st0.widgetNames;
  out.widgetType = st0.type;
  out.domWidgetParent = await page.evaluate((id) => {
    const el = document.querySelector(`[data-deig-node-id="${id}"]`);
    return { inDomWidgetOverlay: !!el.closest('.dom-widget'), inVueNode: !!el.closest('.lg-node') };
  }, id);

  const nodePos = () => page.evaluate((id) => Array.from(window.app.graph.getNodeById(id).pos), id);
  out.posBefore = await nodePos();

  // 1-2. Two boxes, with their descriptions (first: the auto-focused textarea; second: its list row).
  await L.dragNorm(page, id, [0.08, 0.10], [0.48, 0.62]);
  await L.waitBoxes(page, id, 1);
  out.steps.focusAfterDraw = await page.evaluate(() => document.activeElement?.className);
  await page.keyboard.type('a red sports car');
  await L.dragNorm(page, id, [0.55, 0.30], [0.92, 0.90]);
  await L.waitBoxes(page, id, 2);
  await (await rowInput(page, id, 2)).click();
  await page.keyboard.type('a small brown dog');
  out.steps.drawn = await waitValue(page, id, (it) => it.length === 2 && it[1].text === 'a small brown dog', 'two described boxes');

  // 3. Resize box 2 by its bottom-right handle; 4. move box 1 by dragging its body.
  await L.dragNorm(page, id, [0.92, 0.90], [0.80, 0.75]);
  out.steps.resized = await waitValue(page, id, (it) => Math.abs(it[1].box[2] - 0.8) < 0.01, 'resize');
  await L.dragNorm(page, id, [0.28, 0.36], [0.33, 0.41]);
  out.steps.moved = await waitValue(page, id, (it) => Math.abs(it[0].box[0] - 0.13) < 0.01, 'move');
  out.posAfterDrags = await nodePos();   // drags inside the editor must not drag the node

  // 5. Select box 2 by clicking it, Delete key; 6-8. undo/redo by keys and by buttons.
  const c2 = await L.toScreen(page, id, 0.675, 0.525);
  await page.mouse.click(c2.x, c2.y);
  out.steps.focusAfterClick = await page.evaluate(() => document.activeElement?.className);
  await page.keyboard.press('Delete');
  out.steps.deleted = await waitValue(page, id, (it) => it.length === 1, 'delete');
  await page.keyboard.press('Control+z');
  out.steps.undone = await waitValue(page, id, (it) => it.length === 2, 'Ctrl+Z');
  out.steps.graphIntactAfterUndo = await page.evaluate(({ id, sinkId }) => {
    const g = window.app.graph;
    return { probe: g.getNodeById(id)?.__deigProbe ?? null, nodes: g.nodes.length, sink: !!g.getNodeById(sinkId) };
  }, { id, sinkId });
  await page.keyboard.press('Control+y');
  await waitValue(page, id, (it) => it.length === 1, 'Ctrl+Y');
  await page.keyboard.press('Control+z');
  await waitValue(page, id, (it) => it.length === 2, 'Ctrl+Z again');
  await page.keyboard.press('Control+Shift+z');
  out.steps.shiftRedo = await waitValue(page, id, (it) => it.length === 1, 'Ctrl+Shift+Z');
  await page.keyboard.press('Control+Shift+z');   // nothing left to redo: stays at one box
  const ed = L.editorLocator(page, id);
  await ed.locator('.deig-be-toolbar').getByRole('button', { name: 'Undo', exact: true }).click();
  await waitValue(page, id, (it) => it.length === 2, 'Undo button');
  await ed.locator('.deig-be-toolbar').getByRole('button', { name: 'Redo', exact: true }).click();
  out.steps.redone = await waitValue(page, id, (it) => it.length === 1, 'Redo button');

  // 9. Draw the second box again and describe it.
  await L.dragNorm(page, id, [0.55, 0.30], [0.80, 0.75]);
  await L.waitBoxes(page, id, 2);
  await page.keyboard.type('a small brown dog');
  out.steps.redrawn = await waitValue(page, id, (it) => it.length === 2 && it[1].text === 'a small brown dog', 'redraw');

  // 10. Keyboard: click box 1, two right nudges, four shift+down (resize); 11. numeric x1 = 64 px.
  const c1 = await L.toScreen(page, id, 0.33, 0.41);
  await page.mouse.click(c1.x, c1.y);
  for (const k of ['ArrowRight', 'ArrowRight', 'Shift+ArrowDown', 'Shift+ArrowDown', 'Shift+ArrowDown', 'Shift+ArrowDown']) {
    await page.keyboard.press(k);
  }
  out.steps.nudged = await waitValue(page, id, (it) => Math.abs(it[0].box[3] - (0.67 + 4 / 512)) < 0.005 && it[0].box[0] > 0.132, 'arrow keys');
  const x1 = ed.locator('.deig-be-detail input[data-coord="x1"]');
  await x1.fill('64');
  await x1.press('Enter');
  out.steps.numeric = await waitValue(page, id, (it) => it[0].box[0] === 0.125, 'numeric x1');

  // 12. Reorder with the list's down button: box 1 becomes box 2.
  await ed.locator('.deig-be-row').nth(0).locator('button[title^="Move down"]').click();
  out.steps.reordered = await waitValue(page, id, (it) => it[0].text === 'a small brown dog', 'reorder');

  // 13. Keyboard reach: Tab from the last toolbar button lands on the canvas; N adds, Delete removes.
  await ed.locator('.deig-be-toolbar').getByRole('button', { name: 'JSON', exact: true }).focus();
  await page.keyboard.press('Tab');
  out.steps.tabToCanvas = await page.evaluate(() => document.activeElement?.classList.contains('deig-be-canvas'));
  await page.keyboard.press('n');
  await L.waitBoxes(page, id, 3);
  await page.keyboard.press('Delete');
  await L.waitBoxes(page, id, 2);

  // 14. Snap to the 8 px latent grid while drawing, then remove that box with the toolbar button.
  await ed.locator('.deig-be-toggle', { hasText: 'snap' }).locator('input').check();
  await L.dragNorm(page, id, [0.1, 0.7], [0.3, 0.95]);
  const snapped = await waitValue(page, id, (it) => it.length === 3, 'snapped box');
  out.steps.snappedBox = snapped[2].box;
  await page.keyboard.press('Escape');   // leave the description field
  await ed.locator('.deig-be-toolbar button', { hasText: 'Delete' }).click();
  await L.waitBoxes(page, id, 2);
  await ed.locator('.deig-be-toggle', { hasText: 'snap' }).locator('input').uncheck();

  // Rendering: the canvas shows box colours where boxes are, the background elsewhere.
  out.pixels = await page.evaluate((id) => {
    const c = document.querySelector(`[data-deig-node-id="${id}"] canvas.deig-be-canvas`);
    const ctx = c.getContext('2d');
    const px = (nx, ny) => Array.from(ctx.getImageData(Math.floor(nx * c.width), Math.floor(ny * c.height), 1, 1).data);
    return { insideBox1: px(0.68, 0.6), insideBox2: px(0.3, 0.4), empty: px(0.95, 0.05) };
  }, id);
  await page.evaluate(() => document.activeElement?.blur());
  await page.screenshot({ path: join(artifactsDir, `box_editor_${mode}.png`) });
  await L.editorLocator(page, id).screenshot({ path: join(artifactsDir, `box_editor_${mode}_widget.png`) });

  // The snap toggle is saved with the workflow (node properties).
  await ed.locator('.deig-be-toggle', { hasText: 'snap' }).locator('input').check();

  // Save: the workflow JSON and the API prompt both carry the widget's JSON string unchanged.
  out.finalValue = await value(page, id);
  const saved = await page.evaluate(async ({ id }) => {
    const app = window.app;
    const wf = app.graph.serialize();
    const prompt = await app.graphToPrompt();
    return { wf, widgetsValues: wf.nodes.find((n) => String(n.id) === String(id)).widgets_values,
      apiLayout: prompt.output[String(id)].inputs.layout };
  }, { id });
  out.savedWidgetsValues = saved.widgetsValues;
  out.savedApiLayout = saved.apiLayout;

  // Reload the page and load the saved workflow.
  await page.reload({ waitUntil: 'domcontentloaded' });
  await openComfy(page, baseUrl);
  await page.evaluate(async (wf) => { await window.app.loadGraphData(wf); }, saved.wf);
  await L.tagEditors(page);
  await L.waitCanvasStable(page, id);
  out.reloadedValue = await value(page, id);
  out.reloadedRows = await L.editorLocator(page, id).locator('.deig-be-row-text').evaluateAll((els) => els.map((e) => e.value));
  out.snapAfterReload = await L.editorLocator(page, id).locator('.deig-be-toggle', { hasText: 'snap' }).locator('input').isChecked();

  // Queue from the UI (Ctrl+Enter on the graph) and read what the backend got.
  const before = Object.keys(await (await fetch(`${baseUrl}/api/history`)).json());
  await page.mouse.click(1000, 600);
  await page.keyboard.press('Control+Enter');
  const entry = await pollHistory(baseUrl, (e) => !before.includes(e.prompt?.[1]) && e.outputs?.[String(sinkId)]);
  out.backendPromptLayout = entry.prompt[2][String(id)].inputs.layout;
  out.backendOutputText = entry.outputs[String(sinkId)].text?.[0] ?? null;
  out.backendStatus = entry.status?.status_str ?? null;

  // A malformed stored value: error shown in the widget, value kept, graph usable, reset works.
  const bad = '[{"box": [0.5, 0.1, 0.2, 0.4], "text": "a cat"}';   // truncated JSON
  const badBox = '[{"box": [0.5, 0.1, 0.2, 0.4], "text": "a cat"}]';  // x2 < x1
  const results = {};
  for (const [name, v] of [['invalidJson', bad], ['invalidBox', badBox]]) {
    const wf = structuredClone(saved.wf);
    wf.nodes.find((n) => String(n.id) === String(id)).widgets_values[0] = v;
    await page.evaluate(async (wf) => { await window.app.loadGraphData(wf); }, wf);
    await L.tagEditors(page);
    const err = L.editorLocator(page, id).locator('.deig-be-error');
    await err.waitFor({ state: 'visible' });
    results[name] = await page.evaluate((id) => {
      const app = window.app;
      const node = app.graph.getNodeById(id);
      const wf = app.graph.serialize();
      return { value: node.widgets.find((w) => w.name === 'layout').value, nodes: app.graph.nodes.length,
        serializedValue: wf.nodes.find((n) => String(n.id) === String(id)).widgets_values[0],
        widthWidget: node.widgets.find((w) => w.name === 'width').value };
    }, id);
    results[name].message = await err.innerText();
    if (name === 'invalidJson') await page.screenshot({ path: join(artifactsDir, `box_editor_error_${mode}.png`) });
  }
  await L.editorLocator(page, id).locator('button', { hasText: 'Reset to empty layout' }).click();
  await L.waitBoxes(page, id, 0);
  await L.waitCanvasStable(page, id);
  await L.dragNorm(page, id, [0.2, 0.2], [0.6, 0.6]);
  await L.waitBoxes(page, id, 1);
  results.afterReset = await value(page, id);
  results.errorHiddenAfterReset = await L.editorLocator(page, id).locator('.deig-be-error').isHidden();
  out.malformed = results;
  return out;
}, { timeout: 60000, viewport: L.VIEWPORT });
