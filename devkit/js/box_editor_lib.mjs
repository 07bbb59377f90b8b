// Helpers for the box editor browser scripts: settings, adding the layout node, and driving the
// editor with real mouse/keyboard input (page.mouse / page.keyboard, not synthetic DOM events).
// Waits are conditions with timeouts, never fixed sleeps.

export const NODE_CLASS = 'DEIG_InstanceLayout';
// Tall enough for the whole node in every renderer: 1.58's Vue nodes lay the editor out at the node's
// full width, so its canvas (and the node) is taller than in the classic canvas.
export const VIEWPORT = { width: 1280, height: 1040 };

/** Server-side settings for a quiet, deterministic page: no first-run dialogs, chosen renderer. */
export async function prepareSettings(baseUrl, { vueNodes = false } = {}) {
  const settings = {
    'Comfy.TutorialCompleted': true,
    'Comfy.VueNodes.Enabled': vueNodes,
    'Comfy.VueNodes.AutoScaleLayout': false,
    'Comfy.Workflow.ShowMissingNodesWarning': false,
    'Comfy.Workflow.ShowMissingModelsWarning': false,
    'Comfy.Minimap.Visible': false,
    'Comfy.Validation.Workflows': true,
  };
  const res = await fetch(`${baseUrl}/api/settings`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(settings),
  });
  if (!res.ok) throw new Error(`POST /api/settings -> ${res.status}`);
}

/** Errors reported by the page that come from this pack's files (by URL or by message). */
export function packErrors(result) {
  const mine = (s) => /ComfyUI-DEIG|deig|box.?editor/i.test(s || '');
  return [
    ...result.consoleErrors.filter((e) => mine(e.url) || mine(e.text)),
    ...result.pageErrors.filter((e) => mine(e)),
  ];
}

/** Clear the graph, add one layout node at graph position (x, y), reset the view. Returns its id. */
export async function addLayoutNode(page, { x = 60, y = 130, width = 560, height = 720 } = {}) {
  // Clear first and let the Vue node renderer drop the old nodes: a node re-added in the same tick
  // with a recycled id would reuse the old Vue component, which keeps the old DOM widget element.
  await page.evaluate(() => window.app.graph.clear());
  await page.waitForFunction(() => !document.querySelector('.lg-node'), null, { polling: 50 });
  const id = await page.evaluate(({ cls, x, y, width, height }) => {
    const app = window.app;
    app.canvas.ds.offset = [0, 0];
    app.canvas.ds.scale = 1;
    const node = window.LiteGraph.createNode(cls);
    node.pos = [x, y];
    app.graph.add(node);
    node.setSize([width, height]);
    app.graph.setDirtyCanvas(true, true);
    const w = node.widgets.find((x) => x.name === 'layout');
    if (w?.element) w.element.dataset.deigNodeId = String(node.id);
    return node.id;
  }, { cls: NODE_CLASS, x, y, width, height });
  await editorLocator(page, id).locator('canvas.deig-be-canvas').waitFor({ state: 'visible' });
  await waitCanvasStable(page, id);
  return id;
}

/** Locator of the editor root of node `id` (whichever renderer mounted it). */
export function editorLocator(page, id) {
  // The widget element is the same DOM node in both renderers; find it through the node.
  return page.locator(`[data-deig-node-id="${id}"]`);
}

/** Tag every editor root with its node id so locators can find it in both renderers. */
export async function tagEditors(page) {
  await page.evaluate(() => {
    for (const n of window.app.graph.nodes) {
      const w = n.widgets?.find((x) => x.name === 'layout' && x.element);
      if (w) w.element.dataset.deigNodeId = String(n.id);
    }
  });
}

/** Wait until the canvas has a non-zero, unchanging on-screen box (layout/zoom settled). */
export async function waitCanvasStable(page, id) {
  await tagEditors(page);
  await page.waitForFunction((id) => {
    const root = document.querySelector(`[data-deig-node-id="${id}"]`);
    const c = root?.querySelector('canvas.deig-be-canvas');
    if (!c) return false;
    const r = c.getBoundingClientRect();
    const key = [r.left, r.top, r.width, r.height].map((v) => v.toFixed(1)).join(',');
    const prev = c.dataset.lastRect;
    c.dataset.lastRect = key;
    return r.width > 50 && r.height > 50 && prev === key;
  }, id, { polling: 100 });
}

export async function canvasRect(page, id) {
  return page.evaluate((id) => {
    const c = document.querySelector(`[data-deig-node-id="${id}"] canvas.deig-be-canvas`);
    const r = c.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height };
  }, id);
}

/** Screen point of a normalised canvas point. */
export async function toScreen(page, id, nx, ny) {
  const r = await canvasRect(page, id);
  return { x: r.left + nx * r.width, y: r.top + ny * r.height };
}

/** Press at one normalised point and release at another, with intermediate moves. */
export async function dragNorm(page, id, from, to, steps = 8) {
  await waitCanvasStable(page, id);
  const a = await toScreen(page, id, from[0], from[1]);
  const b = await toScreen(page, id, to[0], to[1]);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move(b.x, b.y, { steps });
  await page.mouse.up();
}

/** The widget's current value and the editor state (items, selection), read through the node. */
export async function editorState(page, id) {
  return page.evaluate((id) => {
    const node = window.app.graph.getNodeById(id);
    const w = node.widgets.find((x) => x.name === 'layout');
    const idx = node.widgets.indexOf(w);
    return { value: w.value, type: w.type, index: idx, widgetNames: node.widgets.map((x) => x.name) };
  }, id);
}

/** Wait until the layout value parses to `n` boxes. Returns the parsed list. */
export async function waitBoxes(page, id, n) {
  await page.waitForFunction(({ id, n }) => {
    const node = window.app.graph.getNodeById(id);
    try { return JSON.parse(node.widgets.find((x) => x.name === 'layout').value).length === n; } catch { return false; }
  }, { id, n }, { polling: 50 });
  const s = await editorState(page, id);
  return JSON.parse(s.value);
}

// ---- graph context: nodes, links, aspect, pixels --------------------------------------------

export async function aspect(page, id) {
  const r = await canvasRect(page, id);
  return r.width / r.height;
}

export async function waitAspect(page, id, want, what) {
  await page.waitForFunction(({ id, want }) => {
    const c = document.querySelector(`[data-deig-node-id="${id}"] canvas.deig-be-canvas`);
    const r = c?.getBoundingClientRect();
    return r && r.height > 0 && Math.abs(r.width / r.height - want) < 0.02;
  }, { id, want }, { polling: 100 }).catch((e) => { throw new Error(`aspect ${want} (${what}): ${e.message}`); });
  return aspect(page, id);
}

export async function statusText(page, id) {
  return editorLocator(page, id).locator('.deig-be-status').innerText();
}

/** Pixel of the editor canvas at a normalised point. */
export async function pixel(page, id, nx, ny) {
  return page.evaluate(({ id, nx, ny }) => {
    const c = document.querySelector(`[data-deig-node-id="${id}"] canvas.deig-be-canvas`);
    return Array.from(c.getContext('2d').getImageData(Math.floor(nx * c.width), Math.floor(ny * c.height), 1, 1).data);
  }, { id, nx, ny });
}

export async function waitPixel(page, id, nx, ny, pred, what) {
  await page.waitForFunction(({ id, nx, ny, src }) => {
    const c = document.querySelector(`[data-deig-node-id="${id}"] canvas.deig-be-canvas`);
    const p = Array.from(c.getContext('2d').getImageData(Math.floor(nx * c.width), Math.floor(ny * c.height), 1, 1).data);
    return new Function('p', `return (${src})(p)`)(p);
  }, { id, nx, ny, src: pred.toString() }, { polling: 100 }).catch((e) => { throw new Error(`pixel (${what}): ${e.message}`); });
  return pixel(page, id, nx, ny);
}

/** Add a node of `type` at (x, y); set widget values; return its id. */
export async function addNode(page, type, x, y, widgets = {}) {
  return page.evaluate(({ type, x, y, widgets }) => {
    const n = window.LiteGraph.createNode(type);
    n.pos = [x, y];
    window.app.graph.add(n);
    for (const [name, v] of Object.entries(widgets)) {
      const w = n.widgets.find((k) => k.name === name);
      w.value = v;
      w.callback?.(v);
    }
    return n.id;
  }, { type, x, y, widgets });
}

export async function connect(page, fromId, fromSlot, toId, toInput) {
  await page.evaluate(({ fromId, fromSlot, toId, toInput }) => {
    const g = window.app.graph;
    const to = g.getNodeById(toId);
    const slot = to.inputs.findIndex((i) => i.name === toInput);
    if (slot < 0) throw new Error(`no input ${toInput} on ${to.type}`);
    g.getNodeById(fromId).connect(fromSlot, to, slot);
  }, { fromId, fromSlot, toId, toInput });
}

/** Load one of the pack's example workflows the way the template browser does. */
export async function loadTemplate(page, name) {
  await page.evaluate(async (name) => {
    const listing = await (await fetch('/workflow_templates')).json();
    const pack = Object.keys(listing).find((p) => listing[p].includes(name));  // the pack's folder: ComfyUI-DEIG or deig
    if (!pack) throw new Error(`template ${name} not listed: ${JSON.stringify(listing)}`);
    const wf = await (await fetch(`/api/workflow_templates/${pack}/${name}.json`)).json();
    await window.app.loadGraphData(wf);
  }, name);
  await tagEditors(page);
}

/** Id of the first node of class `type` in the graph. */
export async function nodeOfType(page, type) {
  return page.evaluate((type) => window.app.rootGraph.nodes.find((n) => n.type === type)?.id ?? null, type);
}

/** Set widget values of node `id` the way a script or a loaded workflow does (value setter only). */
export async function setWidgets(page, id, values) {
  await page.evaluate(({ id, values }) => {
    const n = window.app.graph.getNodeById(id);
    for (const [name, v] of Object.entries(values)) n.widgets.find((k) => k.name === name).value = v;
  }, { id, values });
}

/** Screen rectangle of node `id` with its title bar, `margin` px around it (a screenshot clip). */
export async function nodeClip(page, id, margin = 8) {
  return page.evaluate(({ id, margin }) => {
    const app = window.app;
    const n = app.graph.getNodeById(id);
    const r = app.canvas.canvas.getBoundingClientRect();
    const th = window.LiteGraph.NODE_TITLE_HEIGHT;
    const [x, y] = app.canvas.ds.convertOffsetToCanvas([n.pos[0], n.pos[1] - th]);
    const s = app.canvas.ds.scale;
    return { x: r.left + x - margin, y: r.top + y - margin, width: n.size[0] * s + 2 * margin,
             height: (n.size[1] + th) * s + 2 * margin };
  }, { id, margin });
}

/** Upload a `w`x`h` PNG of one colour to the server's input folder as `name`; returns the stored name. */
export async function uploadPlainImage(page, name, w, h, color) {
  return page.evaluate(async ({ name, w, h, color }) => {
    const c = new OffscreenCanvas(w, h);
    const ctx = c.getContext('2d');
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, w, h);
    const form = new FormData();
    form.append('image', await c.convertToBlob({ type: 'image/png' }), name);
    form.append('overwrite', 'true');
    const res = await window.comfyAPI.api.api.fetchApi('/upload/image', { method: 'POST', body: form });
    return (await res.json()).name;
  }, { name, w, h, color });
}
