// The box editor as a long-lived page component, and the trial's items about its node (argv: MODE
// PACK_URL). Before the page loads, requestAnimationFrame/setTimeout and image listeners are counted
// when the pack's own code (PACK_URL in the call's stack) asks for them; the editor's draws and
// refreshes are counted through its modules (the same module instances the frontend loaded).
// Screenshots lifecycle_*_<mode>.png; prints one JSON object; the test asserts.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

/** In the page, before any of its scripts: count the pack's pending frames and timers, and its image listeners. */
function instrument(packUrl) {
  const mine = () => String(new Error().stack).includes(packUrl);
  const t = (window.__deigTrack = { frames: new Set(), timers: new Set(), imageListeners: [], images: new Set() });
  const raf = window.requestAnimationFrame.bind(window), caf = window.cancelAnimationFrame.bind(window);
  window.requestAnimationFrame = (fn) => {
    if (!mine()) return raf(fn);
    const id = raf((ts) => { t.frames.delete(id); fn(ts); });
    t.frames.add(id);
    return id;
  };
  window.cancelAnimationFrame = (id) => { t.frames.delete(id); caf(id); };
  const st = window.setTimeout.bind(window), ct = window.clearTimeout.bind(window);
  window.setTimeout = (fn, ms, ...a) => {
    if (!mine() || typeof fn !== 'function') return st(fn, ms, ...a);
    const id = st(() => { t.timers.delete(id); fn(...a); }, ms);
    t.timers.add(id);
    return id;
  };
  window.clearTimeout = (id) => { t.timers.delete(id); ct(id); };
  const add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (type, fn, opts) {
    if (this instanceof HTMLImageElement && mine()) {
      t.imageListeners.push({ type, src: this.src });
      t.images.add(this);
    }
    return add.call(this, type, fn, opts);
  };
}

/** Count the editor's full redraws, canvas draws and refreshes per node id (patching its classes). */
async function countDraws(page, packUrl) {
  await page.evaluate(async (packUrl) => {
    const { BoxEditor } = await import(`${packUrl}editor/editor.js`);
    const { CanvasView } = await import(`${packUrl}editor/canvas_view.js`);
    const c = (window.__deigCounts = { draws: 0, refreshes: {} });
    const draw = CanvasView.prototype.render;
    CanvasView.prototype.render = function (...a) { c.draws++; return draw.apply(this, a); };
    const refresh = BoxEditor.prototype.refresh;
    BoxEditor.prototype.refresh = function (...a) {
      const k = String(this.node?.id);
      c.refreshes[k] = (c.refreshes[k] ?? 0) + 1;
      return refresh.apply(this, a);
    };
  }, packUrl);
}

const frames = (page, n = 2) => page.evaluate((n) => new Promise((resolve) => {
  const step = (k) => (k ? requestAnimationFrame(() => step(k - 1)) : resolve());
  step(n);
}), n);

const pending = (page) => page.evaluate(() => ({
  frames: window.__deigTrack.frames.size, timers: window.__deigTrack.timers.size,
}));

/** How the slots the editor may wrap look on these nodes: own `value` accessors, and whether
 * onConnectionsChange is still the function the node had at the first call. */
async function slots(page, ids) {
  return page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const n = window.app.rootGraph.getNodeById(id);
    const first = (window.__deigFirstConnections ??= new Map());
    if (!first.has(id)) first.set(id, n.onConnectionsChange);
    const values = Object.fromEntries((n.widgets ?? []).map((w) => {
      const d = Object.getOwnPropertyDescriptor(w, 'value');
      return [w.name, d ? (d.get ? `own accessor ${d.get.toString().slice(0, 40)}` : 'own field') : 'inherited'];
    }));
    return [id, { values, onConnectionsChangeAsFirst: n.onConnectionsChange === first.get(id) }];
  })), ids);
}

/** What a person sees of the node's own width/height: label, disabled, value (and the Vue node's text). */
async function ownSize(page, id) {
  return page.evaluate((id) => {
    const n = window.app.rootGraph.getNodeById(id);
    const el = document.querySelector(`.lg-node[data-node-id="${id}"]`);
    const w = (name) => {
      const x = n.widgets.find((k) => k.name === name);
      return { label: x.label ?? null, disabled: !!x.disabled, value: x.value };
    };
    return { width: w('width'), height: w('height'), vueText: el ? el.innerText : null };
  }, id);
}

/** The title a hovering pointer would show at (x, y): the nearest element with a title attribute. */
async function tooltipAt(page, x, y) {
  return page.evaluate(({ x, y }) => {
    for (let e = document.elementFromPoint(x, y); e; e = e.parentElement) {
      if (e.hasAttribute('title')) return e.getAttribute('title');
    }
    return null;
  }, { x, y });
}

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const [modeArg, packUrl] = args;
  const mode = modeArg === 'vue' ? 'vue' : 'classic';
  const out = { mode };
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  await fetch(`${baseUrl}/api/settings`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ 'Comfy.RightSidePanel.IsOpen': true }) });
  await page.addInitScript(instrument, packUrl);
  await openComfy(page, baseUrl);
  await countDraws(page, packUrl);

  // ---- a layout feeding a sampler; a latent not yet connected, and a node nothing connects ----
  const id = await L.addLayoutNode(page, { width: 480, height: 760 });
  await L.setWidgets(page, id, { width: 768 });
  const enc = await L.addNode(page, 'DEIG_Encode', 700, 130);
  const ks = await L.addNode(page, 'KSampler', 1000, 130);
  const lat = await L.addNode(page, 'EmptyLatentImage', 700, 500, { width: 512, height: 896 });
  const lone = await L.addNode(page, 'EmptyLatentImage', 1000, 600);
  out.ids = { lat, ks, lone };
  out.slotsBefore = await slots(page, [lat, ks, lone]);
  await L.connect(page, id, 0, enc, 'layout');
  await L.connect(page, enc, 0, ks, 'positive');
  await page.mouse.move(5, 700);
  await L.waitAspect(page, id, 768 / 512, 'own width/height');

  // ---- trial: the own width/height while a connected latent decides the size ----
  out.ownBeforeLatent = await ownSize(page, id);
  await L.connect(page, lat, 0, ks, 'latent_image');
  await L.waitAspect(page, id, 512 / 896, 'EmptyLatentImage');
  await page.waitForFunction((id) => window.app.rootGraph.getNodeById(id).widgets.find((k) => k.name === 'width').disabled === true,
    id, { polling: 100, timeout: 5000 }).catch(() => {});
  await frames(page);
  out.ownWithLatent = await ownSize(page, id);
  out.slotsWatching = await slots(page, [lat, ks, lone]);
  // A link made at a node the layout does not depend on: the editor does not re-read the graph.
  const refreshesBefore = await page.evaluate((id) => window.__deigCounts.refreshes[String(id)], id);
  const decode = await L.addNode(page, 'VAEDecode', 1300, 600);
  await L.connect(page, lone, 0, decode, 'samples');
  await frames(page, 2);
  out.refreshesOnUnrelatedLink = await page.evaluate((id) => window.__deigCounts.refreshes[String(id)], id) - refreshesBefore;
  out.promptWithLatent = await page.evaluate(async (id) => (await window.app.graphToPrompt()).output[String(id)]?.inputs, id);
  out.savedInputLabels = await page.evaluate((id) => (window.app.rootGraph.getNodeById(id).serialize().inputs ?? [])
    .map((i) => i.label ?? null), id);
  await page.screenshot({ path: join(artifactsDir, `lifecycle_overridden_${mode}.png`) });

  // ---- trial: a freshly drawn box shows whole pixels ----
  await L.dragNorm(page, id, [0.1371, 0.1137], [0.4373, 0.5291]);
  await L.waitBoxes(page, id, 1);
  await frames(page);
  out.pixelFields = await L.editorLocator(page, id).locator('input.deig-be-num').evaluateAll((els) => els.map((e) => e.value));
  out.drawnBox = JSON.parse((await L.editorState(page, id)).value)[0].box;

  // ---- trial: hovering the editor shows no tooltip of the hidden raw JSON field ----
  const r = await L.canvasRect(page, id);
  const spot = { x: r.left + 0.8 * r.width, y: r.top + 0.85 * r.height };
  await page.mouse.move(spot.x, spot.y);
  out.tooltipOnCanvas = await tooltipAt(page, spot.x, spot.y);
  const unit = await L.editorLocator(page, id).locator('.deig-be-unit').boundingBox();
  await page.mouse.move(unit.x + 4, unit.y + unit.height / 2);
  out.tooltipOnPanel = await tooltipAt(page, unit.x + 4, unit.y + unit.height / 2);
  await page.screenshot({ path: join(artifactsDir, `lifecycle_hover_${mode}.png`) });
  out.layoutTooltip = await page.evaluate(() => window.LiteGraph.registered_node_types.DEIG_InstanceLayout.nodeData?.inputs?.layout?.tooltip ?? null);

  // ---- trial: the side panel's Parameters list (1.58) has no bare "layout" entry ----
  out.panel = await page.evaluate(async (id) => {
    const n = window.app.rootGraph.getNodeById(id);
    window.app.canvas.deselectAll?.();
    window.app.canvas.selectNode(n);
    window.app.rootGraph.setDirtyCanvas(true, true);
    return !!document.querySelector('[data-testid="properties-panel"]');
  }, id);
  if (out.panel) {
    const list = page.locator('[data-testid="properties-panel"] [data-testid="section-widgets-list"]').first();
    await list.waitFor({ state: 'visible', timeout: 15000 });
    await page.waitForFunction(() => /width/.test(document.querySelector('[data-testid="properties-panel"] [data-testid="section-widgets-list"]')?.innerText ?? ''),
      null, { polling: 100, timeout: 15000 });
    out.panelLines = (await list.innerText()).split('\n').map((s) => s.trim()).filter(Boolean);
    await page.screenshot({ path: join(artifactsDir, `lifecycle_panel_${mode}.png`) });
    await page.evaluate(() => window.app.canvas.deselectAll?.());
  }

  // ---- renders: a burst of pointer moves in one task draws nothing in it, then once in the next frame ----
  await frames(page);
  const a = await L.toScreen(page, id, 0.6, 0.7);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  out.burst = await page.evaluate(async ({ id, x, y }) => {
    const c = document.querySelector(`[data-deig-node-id="${id}"] canvas.deig-be-canvas`);
    const r = c.getBoundingClientRect();
    const counts = window.__deigCounts;
    const before = counts.draws;
    for (let k = 1; k <= 20; k++) {
      c.dispatchEvent(new PointerEvent('pointermove', { bubbles: true, pointerId: 1, buttons: 1, pointerType: 'mouse',
        clientX: x + k * 0.01 * r.width, clientY: y + k * 0.005 * r.height }));
    }
    const inTask = counts.draws - before;
    await new Promise((res) => requestAnimationFrame(() => requestAnimationFrame(res)));
    return { moves: 20, drawsInTask: inTask, drawsAfterTwoFrames: counts.draws - before };
  }, { id, x: a.x, y: a.y });
  await page.mouse.up();
  await L.waitBoxes(page, id, 2);
  // Real pointer moves over the canvas (hover, no button): at most one draw per animation frame.
  out.hover = await page.evaluate(() => {
    window.__deigFrameCount = 0;
    window.__deigDrawsAtStart = window.__deigCounts.draws;
    const tick = () => { window.__deigFrameCount++; window.__deigFrameLoop = requestAnimationFrame(tick); };
    window.__deigFrameLoop = requestAnimationFrame(tick);
    return true;
  });
  // in and out of both boxes (each change of the box under the pointer asks for a redraw)
  const path = [[0.02, 0.02], [0.29, 0.32], [0.5, 0.6], [0.7, 0.75], [0.98, 0.98], [0.29, 0.32], [0.02, 0.98]];
  let moves = 0;
  for (const [k, [nx, ny]] of path.entries()) {
    const p = await L.toScreen(page, id, nx, ny);
    await page.mouse.move(p.x, p.y, { steps: k ? 15 : 1 });
    moves += k ? 15 : 1;
  }
  await frames(page);
  out.hover = await page.evaluate((moves) => {
    cancelAnimationFrame(window.__deigFrameLoop);
    return { moves, frames: window.__deigFrameCount, draws: window.__deigCounts.draws - window.__deigDrawsAtStart };
  }, moves);

  // ---- an image still loading: one listener however often the editor refreshes; none left after removal ----
  let release;
  const held = new Promise((res) => { release = res; });
  await page.route('**/view?*', async (route) => { await held; await route.continue(); });
  const uploaded = await L.uploadPlainImage(page, 'deig_lifecycle_bg.png', 300, 600, '#2040e0');
  const load = await L.addNode(page, 'LoadImage', 100, 900, { image: uploaded });
  await L.connect(page, load, 1, id, 'masks');
  await frames(page);
  for (let k = 0; k < 8; k++) {   // each value change of a watched widget re-reads the graph
    await L.setWidgets(page, id, { height: 512 + 8 * (k + 1) });
    await frames(page, 1);
  }
  out.imageListeners = await page.evaluate(() => window.__deigTrack.imageListeners
    .filter((l) => l.src.includes('deig_lifecycle_bg') && l.type === 'load').length);
  out.refreshesWhileLoading = await page.evaluate((id) => window.__deigCounts.refreshes[String(id)], id);

  // ---- removal: a description just typed (its token count pending), the image still loading ----
  await L.editorLocator(page, id).locator('textarea.deig-be-text').fill('a description typed just before removal');
  out.afterRemoval = await page.evaluate((id) => {
    const g = window.app.rootGraph, n = g.getNodeById(id);
    window.__deigRemoved = n;
    g.remove(n);
    return { frames: window.__deigTrack.frames.size, timers: window.__deigTrack.timers.size,
      refreshes: window.__deigCounts.refreshes[String(id)] };
  }, id);
  out.slotsAfterRemoval = await slots(page, [lat, ks, lone]);
  release();
  await page.waitForFunction((name) => [...window.__deigTrack.images]
    .some((img) => img.src.includes(name) && img.complete), uploaded, { polling: 50 });
  await page.evaluate(async ({ lat }) => {   // and the graph goes on changing around it
    const w = window.app.rootGraph.getNodeById(lat).widgets.find((k) => k.name === 'height');
    w.value = 640;
  }, { lat });
  await frames(page, 3);
  out.laterPending = await pending(page);
  out.laterRefreshes = await page.evaluate((id) => window.__deigCounts.refreshes[String(id)], id);

  // ---- the same node added back: the canvas follows the room it is given again (ResizeObserver) ----
  await page.evaluate(() => {
    const n = window.__deigRemoved;
    window.app.rootGraph.add(n);
    window.app.rootGraph.setDirtyCanvas(true, true);
  });
  await L.tagEditors(page);
  out.revivedShown = await L.editorLocator(page, id).locator('canvas.deig-be-canvas').isVisible();
  if (out.revivedShown) {
    await L.waitCanvasStable(page, id);
    const w0 = (await L.canvasRect(page, id)).width;
    // Only the room changes (no graph or value change): only the editor's ResizeObserver can refit.
    await page.evaluate(({ id, w }) => {
      document.querySelector(`[data-deig-node-id="${id}"] .deig-be-stage`).style.maxWidth = `${w}px`;
    }, { id, w: Math.round(w0 * 0.6) });
    out.revivedCanvasFollows = await page.waitForFunction(({ id, w0 }) => {
      const c = document.querySelector(`[data-deig-node-id="${id}"] canvas.deig-be-canvas`);
      return c && c.getBoundingClientRect().width < w0 * 0.7;
    }, { id, w0 }, { polling: 100, timeout: 8000 }).then(() => true, () => false);
    out.slotsRevived = await slots(page, [lat, ks, lone]);
  }
  await page.screenshot({ path: join(artifactsDir, `lifecycle_revived_${mode}.png`) });
  return out;
}, { viewport: L.VIEWPORT });
