// Makes the README screenshot of the box editor (web/js/docs/images/box_editor.png, shown by the README and the help pages): a 768x512 layout with four
// described boxes, the first one selected, in the classic renderer.
//   node scripts/box_editor_screenshot.mjs BASE_URL OUT_DIR   (then copy OUT_DIR/box_editor.png)
import { join } from 'node:path';
import { runBrowser, openComfy } from '../devkit/js/driver.mjs';
import * as L from '../devkit/js/box_editor_lib.mjs';

const LAYOUT = JSON.stringify([
  { box: [0.06, 0.5, 0.56, 0.94], text: 'a grey fabric sofa with two mustard-yellow cushions' },
  { box: [0.6, 0.72, 0.86, 0.95], text: 'a black cat asleep on a round woven rug' },
  { box: [0.84, 0.14, 0.98, 0.7], text: 'a tall monstera plant in a white ceramic pot' },
  { box: [0.18, 0.08, 0.46, 0.42], text: 'a framed oil painting of a sailing boat at sunset' },
]);

await runBrowser(async ({ page, baseUrl, artifactsDir }) => {
  await L.prepareSettings(baseUrl, { vueNodes: false });
  await openComfy(page, baseUrl);
  const id = await L.addLayoutNode(page, { x: 330, y: 150, width: 600, height: 640 });
  await page.evaluate(({ id, layout }) => {
    const n = window.app.graph.getNodeById(id);
    for (const [name, v] of [['width', 768], ['height', 512]]) {
      const w = n.widgets.find((k) => k.name === name);
      w.value = v;
      w.callback?.(v);
    }
    n.widgets.find((k) => k.name === 'layout').value = layout;
    n.title = 'DEIG Instance Layout';
  }, { id, layout: LAYOUT });
  await L.waitCanvasStable(page, id);
  const p = await L.toScreen(page, id, 0.3, 0.75);
  await page.mouse.click(p.x, p.y);   // select box 1: handles and its description panel
  await page.evaluate(() => document.activeElement?.blur());
  await page.mouse.move(5, 400);
  await L.waitCanvasStable(page, id);
  const clip = await L.nodeClip(page, id, 8);
  const path = join(artifactsDir, 'box_editor.png');
  await page.screenshot({ path, clip });
  return { path, clip };
});
