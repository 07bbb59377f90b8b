// Records the README's pictures in the real editor (classic renderer, frontend of BASE_URL):
//   frames/NNN.png  drawing two boxes on a DEIG Instance Layout node and typing their descriptions,
//                   one frame per step of the real mouse and keyboard input (assembled by
//                   scripts/make_readme_pictures.py into docs/images/drawing_a_layout.webp)
//   typical_graph.png  the three-person example workflow as ComfyUI shows it
//   node scripts/readme_pictures.mjs BASE_URL OUT_DIR
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { runBrowser, openComfy } from '../devkit/js/driver.mjs';
import * as L from '../devkit/js/box_editor_lib.mjs';

const BOXES = [
  { from: [0.06, 0.16], to: [0.46, 0.96], text: 'a woman in a white shirt with red accents and sunglasses' },
  { from: [0.54, 0.1], to: [0.94, 0.96], text: 'a tall man in a green hoodie and black jeans' },
];

await runBrowser(async ({ page, baseUrl, artifactsDir }) => {
  await L.prepareSettings(baseUrl, { vueNodes: false });
  await openComfy(page, baseUrl);
  const frames = join(artifactsDir, 'frames');
  await mkdir(frames, { recursive: true });
  const banner = page.getByText('Introducing Nodes 2.0');   // 1.32.9's announcement bar over the canvas
  if (await banner.count()) await banner.locator('xpath=..').locator('..').getByRole('button').last().click().catch(() => {});
  const id = await L.addLayoutNode(page, { x: 200, y: 180, width: 560, height: 640 });
  await page.evaluate((id) => {
    const n = window.app.graph.getNodeById(id);
    for (const [name, v] of [['width', 768], ['height', 512]]) {
      const w = n.widgets.find((k) => k.name === name);
      w.value = v;
      w.callback?.(v);
    }
  }, id);
  await L.waitCanvasStable(page, id);
  const clip = await L.nodeClip(page, id, 6);
  let count = 0;
  const frame = async (hold = 1) => {   // hold: how many frame times it stays (the assembler reads it)
    await page.screenshot({ path: join(frames, `${String(count).padStart(3, '0')}_${hold}.png`), clip });
    count += 1;
  };
  const text = L.editorLocator(page, id).locator('textarea.deig-be-text');
  await frame(4);
  for (const [n, box] of BOXES.entries()) {
    const a = await L.toScreen(page, id, ...box.from);
    const b = await L.toScreen(page, id, ...box.to);
    await page.mouse.move(a.x - 30, a.y - 20);
    await frame();
    await page.mouse.move(a.x, a.y, { steps: 3 });
    await page.mouse.down();
    for (let k = 1; k <= 8; k += 1) {
      await page.mouse.move(a.x + (b.x - a.x) * k / 8, a.y + (b.y - a.y) * k / 8);
      await frame();
    }
    await page.mouse.up();
    await L.waitBoxes(page, id, n + 1);
    await frame(2);
    await text.click();
    const words = box.text.split(' ');
    for (let k = 0; k < words.length; k += 2) {
      await page.keyboard.type(words.slice(k, k + 2).join(' ') + (k + 2 < words.length ? ' ' : ''));
      await frame();
    }
    await page.keyboard.press('Tab');   // leave the field: the description is stored
    await frame(3);
  }
  await page.evaluate(() => document.activeElement?.blur());
  await page.mouse.move(5, 700);
  await L.waitCanvasStable(page, id);
  await frame(10);
  const layout = (await L.editorState(page, id)).value;

  // the typical graph: the three-person example, at a zoom where the classic canvas draws every text
  await L.loadTemplate(page, 'deig_three_people');
  const graphClip = await page.evaluate(() => {
    const app = window.app, ds = app.canvas.ds, th = window.LiteGraph.NODE_TITLE_HEIGHT;
    const nodes = app.graph._nodes;
    const x0 = Math.min(...nodes.map((n) => n.pos[0])), y0 = Math.min(...nodes.map((n) => n.pos[1] - th));
    const x1 = Math.max(...nodes.map((n) => n.pos[0] + n.size[0])), y1 = Math.max(...nodes.map((n) => n.pos[1] + n.size[1]));
    const r = app.canvas.canvas.getBoundingClientRect();
    ds.scale = 0.8;
    ds.offset = [(280 - r.left) / ds.scale - x0, (170 - r.top) / ds.scale - y0];   // clear of the menus
    app.canvas.setDirty(true, true);
    return { x: 260, y: 150, width: (x1 - x0) * ds.scale + 40, height: (y1 - y0) * ds.scale + 40 };
  });
  await page.setViewportSize({ width: Math.ceil(graphClip.x + graphClip.width + 160), height: Math.ceil(graphClip.y + graphClip.height + 120) });
  await page.mouse.move(2, 2);
  await L.waitCanvasStable(page, await L.nodeOfType(page, 'DEIG_InstanceLayout'));
  await page.screenshot({ path: join(artifactsDir, 'typical_graph.png'), clip: graphClip });
  return { frames: count, layout };
}, { viewport: { width: 1600, height: 1000 } });
