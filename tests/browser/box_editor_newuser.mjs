// The box editor as a new user meets it (argv: MODE LONG_TEXT_PATH): the example workflows opened
// from the template route (right aspect at once, the size rule in the status line, no overlapping
// nodes, fitted to the view, missing model files listed), the zoomed-out node, the minimum node
// size, a long instance list, refused coordinates, drags that end outside, token counts and the
// note above 30 boxes. Screenshots item<N>_*.png; prints one JSON object; the test asserts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

let MODULES = '/extensions/ComfyUI-DEIG/editor/';  // set from args[2]: the pack's folder differs per test server

/** Put node `id` at the top-left of the view at zoom `scale`. */
async function focusNode(page, id, scale = 1) {
  await page.evaluate(({ id, scale }) => {
    const app = window.app, n = app.graph.getNodeById(id);
    app.canvas.ds.scale = scale;
    app.canvas.ds.offset = [-n.pos[0] + 80 / scale, -n.pos[1] + 90 / scale];
    app.graph.setDirtyCanvas(true, true);
  }, { id, scale });
}

/** Pan the graph so the element of `locator` ends inside the window (its bottom 20 px above the edge). */
async function reveal(page, locator) {
  const b = await locator.boundingBox();
  const vp = page.viewportSize();
  if (!b || b.y + b.height <= vp.height - 20) return;
  await page.evaluate((dy) => {
    const ds = window.app.canvas.ds;
    ds.offset = [ds.offset[0], ds.offset[1] - dy / ds.scale];
    window.app.graph.setDirtyCanvas(true, true);
  }, b.y + b.height - (vp.height - 20));
  await page.waitForFunction(({ sel, bottom }) => {
    const e = document.querySelector(sel);
    return e && e.getBoundingClientRect().bottom <= bottom + 1;
  }, { sel: await locator.evaluate((e) => { e.dataset.deigReveal = '1'; return '[data-deig-reveal="1"]'; }), bottom: vp.height - 20 }, { polling: 100 });
  await locator.evaluate((e) => { delete e.dataset.deigReveal; });
}

/** Screen rectangle of node `id` (title bar included) in either renderer. */
async function nodeScreenRect(page, id) {
  return page.evaluate((id) => {
    const app = window.app, n = app.graph.getNodeById(id);
    const el = document.querySelector(`.lg-node[data-node-id="${id}"]`);
    if (el) { const b = el.getBoundingClientRect(); return { left: b.left, top: b.top, width: b.width, height: b.height }; }
    const c = app.canvas.canvas.getBoundingClientRect(), s = app.canvas.ds.scale, th = window.LiteGraph.NODE_TITLE_HEIGHT;
    const [x, y] = app.canvas.ds.convertOffsetToCanvas([n.pos[0], n.pos[1] - th]);
    return { left: c.left + x, top: c.top + y, width: n.size[0] * s, height: (n.size[1] + th) * s };
  }, id);
}

async function shot(page, artifactsDir, name, clip) {
  const vp = page.viewportSize();
  const c = clip && {
    x: Math.max(0, clip.left - 10), y: Math.max(0, clip.top - 10),
    width: Math.min(vp.width - Math.max(0, clip.left - 10), clip.width + 20),
    height: Math.min(vp.height - Math.max(0, clip.top - 10), clip.height + 20),
  };
  await page.screenshot({ path: join(artifactsDir, name), ...(c ? { clip: c } : {}) });
}

/** Wait until the view (zoom, offset) and every node's on-screen box stop changing. */
async function waitViewStable(page) {
  await page.waitForFunction(() => {
    const app = window.app;
    const parts = [app.canvas.ds.scale, ...app.canvas.ds.offset];
    for (const el of document.querySelectorAll('.lg-node')) {
      const b = el.getBoundingClientRect();
      parts.push(b.left, b.top, b.width, b.height);
    }
    const key = parts.map((v) => v.toFixed(1)).join(',');
    const same = window.__deigViewKey === key;
    window.__deigViewKey = key;
    return same;
  }, null, { polling: 250 });
}

/** Every node's rectangle in graph units (title bar included), as the user sees it. */
async function graphRects(page) {
  return page.evaluate(() => {
    const app = window.app, th = window.LiteGraph.NODE_TITLE_HEIGHT;
    const c = app.canvas.canvas.getBoundingClientRect(), s = app.canvas.ds.scale, o = app.canvas.ds.offset;
    const out = {};
    for (const n of app.graph._nodes) {
      const el = document.querySelector(`.lg-node[data-node-id="${n.id}"]`);
      let r = [n.pos[0], n.pos[1] - th, n.size[0], n.size[1] + th];
      if (el) {   // Vue nodes: the size the DOM node really has (its place is the node's pos, title bar above)
        const b = el.getBoundingClientRect();
        r = [n.pos[0], n.pos[1] - th, b.width / s, b.height / s];
      }
      out[`${n.id} ${n.type}`] = r;
    }
    return { rects: out, view: { scale: s, offset: [...o], width: c.width / s, height: c.height / s } };
  });
}

/** Pixels close to each instance colour inside a screen rectangle of the graph canvas or editor canvas. */
async function instanceColourCounts(page, id, n) {
  return page.evaluate(async ({ id, n, modules }) => {
    const { instanceRGB } = await import(`${modules}colors.js`);
    const app = window.app, node = app.graph.getNodeById(id);
    const dom = node.widgets.find((w) => w.name === 'layout').element.querySelector('canvas');
    const domRect = dom.getBoundingClientRect();
    let src, x, y, w, h;
    if (domRect.width > 20 && getComputedStyle(node.widgets.find((k) => k.name === 'layout').element).display !== 'none'
        && dom.checkVisibility?.()) {
      src = dom; x = 0; y = 0; w = dom.width; h = dom.height;
    } else {
      src = app.canvas.canvas;
      const [px, py] = app.canvas.ds.convertOffsetToCanvas(node.pos);
      const s = app.canvas.ds.scale, k = src.width / src.getBoundingClientRect().width;
      x = Math.max(0, Math.floor(px * k)); y = Math.max(0, Math.floor(py * k));
      w = Math.floor(node.size[0] * s * k); h = Math.floor(node.size[1] * s * k);
    }
    const data = src.getContext('2d').getImageData(x, y, w, h).data;
    const cols = Array.from({ length: n }, (_, i) => instanceRGB(i));
    const counts = cols.map(() => 0);
    for (let p = 0; p < data.length; p += 4) {
      cols.forEach((c, i) => {
        if (Math.abs(data[p] - c[0]) < 24 && Math.abs(data[p + 1] - c[1]) < 24 && Math.abs(data[p + 2] - c[2]) < 24) counts[i]++;
      });
    }
    return { counts, source: src === dom ? 'editor canvas' : 'graph canvas', lowQuality: !!app.canvas.low_quality };
  }, { id, n, modules: MODULES });
}

/** Rectangles of the editor's parts that stick out of the editor or the node (should be none). */
async function clippedParts(page, id) {
  const node = await nodeScreenRect(page, id);
  return page.evaluate(({ id, node }) => {
    const root = document.querySelector(`[data-deig-node-id="${id}"]`);
    const r = root.getBoundingClientRect();
    const out = [];
    const inside = (b, o) => b.left >= o.left - 1 && b.top >= o.top - 1 && b.right <= o.left + o.width + 1 && b.bottom <= o.top + o.height + 1;
    if (!inside(r, node)) out.push(`editor outside node: ${JSON.stringify(r)} vs ${JSON.stringify(node)}`);
    const list = root.querySelector('.deig-be-list');
    for (const e of root.querySelectorAll('button, input, textarea, .deig-be-status, .deig-be-note, canvas')) {
      const b = e.getBoundingClientRect();
      if (!b.width || !b.height || (list && list.contains(e) && list !== e)) continue;   // hidden / inside the scrolling list
      if (!inside(b, { left: r.left, top: r.top, width: r.width, height: r.height })) out.push(`${e.tagName}.${e.className} ${e.textContent || e.dataset.coord || ''}`.trim());
    }
    const status = root.querySelector('.deig-be-status');
    if (status.scrollWidth > status.clientWidth + 1) out.push('status line cut');
    return out;
  }, { id, node });
}

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const mode = args[0] === 'vue' ? 'vue' : 'classic';
  const longText = await readFile(args[1], 'utf8');
  if (args[2]) MODULES = `/extensions/${args[2]}/editor/`;
  const out = { mode };
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  await openComfy(page, baseUrl);
  await page.mouse.move(5, 790);   // the pointer stays off the editor: nothing here may need a hover

  // ---- item 5 (and 11): the example workflows, opened fitted, without overlapping nodes ----
  out.workflows = {};
  // The first workflow the 1.32.9 frontend loads in the Vue renderer goes through its legacy-layout
  // rescale (ensureCorrectLayoutScale), which leaves node positions and DOM nodes out of step for
  // that one load (a frontend quirk, seen with any workflow); measure from the second load on.
  await L.loadTemplate(page, 'deig_six_donuts');
  await waitViewStable(page);
  out.firstLoadView = await graphRects(page);
  await shot(page, artifactsDir, `item5_first_load_${mode}.png`);
  // Every example workflow the server lists; the 768x512 one last, item 1 goes on with it loaded.
  const LAST = 'deig_community_checkpoint_lora';
  const listed = Object.values(await page.evaluate(async () => (await fetch('/workflow_templates')).json())).flat();
  for (const name of [...listed.filter((n) => n !== LAST).sort(), LAST]) {
    await L.loadTemplate(page, name);
    await waitViewStable(page);
    out.workflows[name] = await graphRects(page);
    await shot(page, artifactsDir, `item5_${name}_${mode}.png`);
  }

  // ---- item 1: the loaded 768x512 workflow has its aspect at once, and follows the latent ----
  let id = await L.nodeOfType(page, L.NODE_CLASS);
  const lat = await L.nodeOfType(page, 'EmptyLatentImage');
  await focusNode(page, id, 1);
  await L.waitCanvasStable(page, id);
  out.item1 = {
    aspect: await L.aspect(page, id), status: await L.statusText(page, id),
    buttons: await L.editorLocator(page, id).locator('.deig-be-status button').count(),
  };
  out.item1.own = await page.evaluate((id) => window.app.graph.getNodeById(id).widgets.filter((w) => ['width', 'height'].includes(w.name)).map((w) => w.value), id);
  await shot(page, artifactsDir, `item1_aspect_${mode}.png`, await nodeScreenRect(page, id));
  // ---- item 11: every missing model file and its folder, in the editor, before queueing ----
  await L.editorLocator(page, id).locator('.deig-be-models li').first().waitFor();
  out.item11 = await L.editorLocator(page, id).locator('.deig-be-models li').allInnerTexts();
  await shot(page, artifactsDir, `item11_missing_models_${mode}.png`, await nodeScreenRect(page, id));
  await L.setWidgets(page, lat, { width: 512 });
  out.item1.aspectAfterLatent512 = await L.waitAspect(page, id, 1, 'latent width 512 set by script');
  await L.setWidgets(page, lat, { width: 768 });
  out.item1.aspectAfterLatent768 = await L.waitAspect(page, id, 1.5, 'latent width back to 768');

  // ---- item 2: one rule, stated; the node's own width does not override a connected latent ----
  await L.loadTemplate(page, 'deig_three_people');
  id = await L.nodeOfType(page, L.NODE_CLASS);
  await focusNode(page, id, 1);
  await L.setWidgets(page, id, { width: 768 });
  await L.editorLocator(page, id).locator('.deig-be-size', { hasText: "over this node's 768×512" }).waitFor();
  await L.waitCanvasStable(page, id);
  out.item2 = {
    status: await L.statusText(page, id), aspect: await L.aspect(page, id),
    rule: await L.editorLocator(page, id).locator('.deig-be-size').getAttribute('title'),
  };
  await shot(page, artifactsDir, `item2_size_rule_${mode}.png`, await nodeScreenRect(page, id));

  // ---- item 3: zoomed out to 50 %, the boxes and numbers still show on the node ----
  await focusNode(page, id, 0.5);
  await page.waitForFunction(() => window.app.canvas.ds.scale === 0.5);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  out.item3 = await instanceColourCounts(page, id, 3);
  await shot(page, artifactsDir, `item3_zoom50_${mode}.png`, await nodeScreenRect(page, id));

  // ---- item 4: a node shrunk from a script stops at a size where everything fits ----
  id = await L.addLayoutNode(page, { width: 560, height: 720 });
  await L.setWidgets(page, id, { layout: JSON.stringify([1, 2, 3].map((k) => ({ box: [0.25 * k - 0.2, 0.1, 0.25 * k, 0.6], text: `thing number ${k}` }))) });
  const b1 = await L.toScreen(page, id, 0.1, 0.3);
  await page.mouse.click(b1.x, b1.y);   // a selected box: the coordinate fields are filled
  await page.evaluate((id) => { const n = window.app.graph.getNodeById(id); n.setSize([200, 200]); window.app.graph.setDirtyCanvas(true, true); }, id);
  await L.waitCanvasStable(page, id);
  await page.waitForFunction((id) => {   // the node settles (grows back to its minimum)
    const n = window.app.graph.getNodeById(id);
    const key = n.size.map((v) => v.toFixed(1)).join(',');
    const same = window.__deigSize === key;
    window.__deigSize = key;
    return same;
  }, id, { polling: 200 });
  out.item4 = {
    size: await page.evaluate((id) => [...window.app.graph.getNodeById(id).size], id),
    clipped: await clippedParts(page, id),
    coordWidths: await L.editorLocator(page, id).locator('input[data-coord]').evaluateAll((es) => es.map((e) => e.getBoundingClientRect().width)),
  };
  await page.mouse.move(5, 790);
  await shot(page, artifactsDir, `item4_min_size_${mode}.png`, await nodeScreenRect(page, id));

  // ---- item 6: six donuts: all rows visible; a long list scrolls visibly; labels differ ----
  await L.loadTemplate(page, 'deig_six_donuts');
  id = await L.nodeOfType(page, L.NODE_CLASS);
  await focusNode(page, id, 1);
  await L.waitCanvasStable(page, id);
  const ed = L.editorLocator(page, id);
  const listInfo = () => ed.locator('.deig-be-list').evaluate((l) => {
    const r = l.getBoundingClientRect();
    const rows = [...l.children].map((c) => c.getBoundingClientRect());
    const thumb = l.parentElement.querySelector('.deig-be-thumb').getBoundingClientRect();
    return { rows: rows.length, visibleRows: rows.filter((b) => b.top >= r.top - 1 && b.bottom <= r.bottom + 1).length,
      scrollThumb: thumb.width > 0 && thumb.height > 0 ? [Math.round(thumb.width), Math.round(thumb.height)] : null,
      scrolls: l.scrollHeight > l.clientHeight + 1 };
  });
  const items = JSON.parse((await L.editorState(page, id)).value);
  out.item6 = { six: await listInfo() };
  out.item6.labels = await page.evaluate(async ({ items, modules }) => (await import(`${modules}canvas_draw.js`)).distinctLabels(items), { items, modules: MODULES });
  const c3 = await L.toScreen(page, id, (items[2].box[0] + items[2].box[2]) / 2, (items[2].box[1] + items[2].box[3]) / 2);
  await page.mouse.move(c3.x, c3.y);
  out.item6.tooltip = await ed.locator('canvas.deig-be-canvas').getAttribute('title');
  await shot(page, artifactsDir, `item6_six_rows_${mode}.png`, await nodeScreenRect(page, id));
  const twelve = [...items, ...items.map((it) => ({ box: it.box, text: `${it.text} (copy)` }))];
  await L.setWidgets(page, id, { layout: JSON.stringify(twelve) });
  await ed.locator('.deig-be-more').waitFor();
  out.item6.twelve = await listInfo();
  out.item6.more = await ed.locator('.deig-be-more').innerText();
  await page.mouse.move(5, 790);
  await reveal(page, ed.locator('.deig-be-listbox'));
  await shot(page, artifactsDir, `item6_twelve_rows_${mode}.png`, await nodeScreenRect(page, id));
  await ed.locator('.deig-be-list').evaluate((l) => { l.scrollTop = l.scrollHeight; });
  await ed.locator('.deig-be-list li').last().waitFor();
  out.item6.lastRowVisible = await ed.locator('.deig-be-list').evaluate((l) => {
    const r = l.getBoundingClientRect(), b = l.lastElementChild.getBoundingClientRect();
    return b.top >= r.top - 1 && b.bottom <= r.bottom + 1;
  });

  // ---- item 7: typed coordinates are refused, never squashed; drags ending outside clamp ----
  id = await L.addLayoutNode(page, { width: 560, height: 760 });
  await L.setWidgets(page, id, { layout: '[{"box": [0.2, 0.18, 0.6, 0.98], "text": "a tall lamp"}]' });
  const lampValue = (await L.editorState(page, id)).value;
  const lamp = await L.toScreen(page, id, 0.4, 0.5);
  await page.mouse.click(lamp.x, lamp.y);
  const x1 = L.editorLocator(page, id).locator('input[data-coord="x1"]');
  const msg = L.editorLocator(page, id).locator('.deig-be-field-msg');
  out.item7 = {};
  await x1.fill('600');   // beyond x2 and beyond the 512-px image
  await x1.press('Enter');
  await msg.filter({ hasText: 'between' }).waitFor();
  out.item7.outside = { value: (await L.editorState(page, id)).value, message: await msg.innerText(), invalid: await x1.getAttribute('aria-invalid') };
  await shot(page, artifactsDir, `item7_refused_${mode}.png`, await nodeScreenRect(page, id));
  await x1.fill('400');   // inside the image, past x2 (307.2 px)
  await x1.press('Enter');
  await msg.filter({ hasText: 'below' }).waitFor();
  out.item7.past = { value: (await L.editorState(page, id)).value, message: await msg.innerText(), invalid: await x1.getAttribute('aria-invalid') };
  await x1.fill('64');
  await x1.press('Enter');
  await msg.waitFor({ state: 'hidden' });
  out.item7.valid = { value: (await L.editorState(page, id)).value, invalid: await x1.getAttribute('aria-invalid') };
  out.item7.lampValue = lampValue;
  for (const [name, dx, dy] of [['upRight', 1, -1], ['downLeft', -1, 1]]) {
    await L.setWidgets(page, id, { layout: '[]' });
    await L.waitCanvasStable(page, id);
    const r = await L.canvasRect(page, id);
    const a = await L.toScreen(page, id, 0.5, 0.5);
    const vp = page.viewportSize();
    const end = { x: dx > 0 ? Math.min(vp.width - 2, r.left + r.width + 300) : Math.max(2, r.left - 300),
      y: dy < 0 ? Math.max(2, r.top - 300) : Math.min(vp.height - 2, r.top + r.height + 300) };
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move(end.x, end.y, { steps: 12 });
    await page.mouse.up();
    out.item7[name] = (await L.waitBoxes(page, id, 1))[0].box;
  }
  await shot(page, artifactsDir, `item7_drag_outside_${mode}.png`, await nodeScreenRect(page, id));

  // ---- item 8: T5 token count per instance; a note above 30 boxes ----
  id = await L.addLayoutNode(page, { width: 560, height: 760 });
  await L.setWidgets(page, id, { layout: JSON.stringify([{ box: [0.05, 0.05, 0.5, 0.9], text: longText }, { box: [0.55, 0.3, 0.95, 0.9], text: 'a red car' }]) });
  const ed8 = L.editorLocator(page, id);
  await ed8.locator('.deig-be-list .deig-be-tok.deig-be-over').waitFor();
  out.item8 = {
    rowCounts: await ed8.locator('.deig-be-list .deig-be-tok').allInnerTexts(),
    rowTitle: await ed8.locator('.deig-be-list .deig-be-tok').first().getAttribute('title'),
    note: await ed8.locator('.deig-be-note').first().innerText(),
  };
  await reveal(page, ed8.locator('.deig-be-listbox'));
  await shot(page, artifactsDir, `item8_tokens_${mode}.png`, await nodeScreenRect(page, id));
  const forty = Array.from({ length: 40 }, (_, k) => ({ box: [(k % 8) / 8, Math.floor(k / 8) / 5, (k % 8) / 8 + 0.1, Math.floor(k / 8) / 5 + 0.15], text: `object ${k + 1}` }));
  await L.setWidgets(page, id, { layout: JSON.stringify(forty) });
  await ed8.locator('.deig-be-note', { hasText: '40 boxes' }).waitFor();
  out.item8.fortyNote = await ed8.locator('.deig-be-note').first().innerText();
  await shot(page, artifactsDir, `item8_forty_boxes_${mode}.png`, await nodeScreenRect(page, id));
  return out;
}, { timeout: 60000 });
