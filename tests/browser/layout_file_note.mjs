// What the layout-file nodes say about their file, with nothing uploaded (so no toast) (argv: MODE FILE): add
// DEIG Layouts from File and DEIG Layout from File, choose FILE (already in the input folder) in each
// node's list as a person does, and read each node's note; then set start/count on the all-entries node
// and read it again, then a start past the end. A screenshot of each step.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

const NOTE = 'deig_layout_file_note';

async function noteOf(page, id) {
  return page.evaluate(async ({ id, NOTE }) => {
    const app = window.app;
    const node = app.graph.getNodeById(id);
    const el = node.widgets.find((w) => w.name === NOTE)?.element;
    const r = el?.getBoundingClientRect();
    const { output } = await app.graphToPrompt();
    return {
      text: el?.textContent ?? null,
      kind: el?.dataset.kind ?? null,
      // the whole text lies inside the note's box (none of it clipped by the node)
      visible: !!r && r.width > 0 && getComputedStyle(el).visibility !== 'hidden' && (() => {
        const range = document.createRange();
        range.selectNodeContents(el);
        const t = range.getBoundingClientRect();
        return t.height > 0 && t.bottom <= r.bottom + 1 && t.right <= r.right + 1;
      })(),
      promptInputs: output[String(id)]?.inputs ?? null,
    };
  }, { id, NOTE });
}

/** Set widgets of node `id` and wait until its note says `expect`. */
async function setAndRead(page, id, values, expect) {
  await page.evaluate(({ id, values }) => {
    const n = window.app.graph.getNodeById(id);
    for (const [name, v] of Object.entries(values)) {
      const w = n.widgets.find((k) => k.name === name);
      w.value = v;
      w.callback?.(v);
    }
  }, { id, values });
  await page.waitForFunction(({ id, NOTE, expect }) => {
    const n = window.app.graph.getNodeById(id);
    return (n.widgets.find((w) => w.name === NOTE)?.element?.textContent ?? '').includes(expect);
  }, { id, NOTE, expect }, { polling: 100, timeout: 20000 });
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return noteOf(page, id);
}

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const [modeArg, file] = args;
  const mode = modeArg === 'vue' ? 'vue' : 'classic';
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  await openComfy(page, baseUrl);
  await page.evaluate(() => { window.app.graph.clear(); window.app.canvas.ds.offset = [0, 0]; window.app.canvas.ds.scale = 1; });
  const all = await L.addNode(page, 'DEIG_LayoutsFromFile', 80, 120);
  const one = await L.addNode(page, 'DEIG_LayoutFromFile', 560, 120);
  const out = { mode };
  out.all = await setAndRead(page, all, { file }, file);
  out.one = await setAndRead(page, one, { file }, file);
  await page.screenshot({ path: join(artifactsDir, `chosen_${mode}.png`) });
  out.some = await setAndRead(page, all, { start: 1, count: 2 }, '1–2');
  out.past = await setAndRead(page, all, { start: 10, count: 0 }, '10');
  await page.screenshot({ path: join(artifactsDir, `past_end_${mode}.png`) });
  return out;
}, { viewport: L.VIEWPORT });
