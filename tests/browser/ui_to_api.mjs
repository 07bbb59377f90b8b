// Loads an example workflow, then edits it the way a user does with nodes that exist only in the frontend:
// a Reroute (chain of two) between the checkpoint loader and DEIG Apply, and Primitive nodes feeding
// KSampler's seed and DEIG Encode's prompt. Returns the saved UI workflow and the frontend's own API prompt
// ("Export (API)", graphToPrompt) for it.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';

await runBrowser(async ({ page, baseUrl, artifactsDir }) => {
  await openComfy(page, baseUrl);
  const result = await page.evaluate(async () => {
    const listing = await (await fetch('/workflow_templates')).json();
    const pack = Object.keys(listing).find((p) => /deig/i.test(p));
    const wf = await (await fetch(`/api/workflow_templates/${pack}/deig_three_people.json`)).json();
    await window.app.loadGraphData(wf);
    const graph = window.app.graph;
    const LG = window.LiteGraph;
    const byType = (t) => graph._nodes.find((n) => n.type === t);
    const ckpt = byType('CheckpointLoaderSimple');
    const apply = byType('DEIG_Apply');
    const sampler = byType('KSampler');
    const encode = byType('DEIG_Encode');
    const add = (type, pos) => { const n = LG.createNode(type); n.pos = pos; graph.add(n); return n; };

    const r1 = add('Reroute', [300, 40]);
    const r2 = add('Reroute', [360, 40]);
    const modelIn = apply.inputs.findIndex((i) => i.name === 'model');
    ckpt.connect(0, r1, 0);
    r1.connect(0, r2, 0);
    r2.connect(0, apply, modelIn);

    const connectPrimitive = (target, widgetName, value, pos) => {
      const slot = target.inputs.findIndex((i) => i.name === widgetName);
      if (slot < 0) throw new Error(`${target.type} has no input socket for widget ${widgetName}`);
      const prim = add('PrimitiveNode', pos);
      prim.connect(0, target, slot);
      if (!prim.widgets || !prim.widgets.length) throw new Error('the Primitive node made no widget');
      prim.widgets[0].value = value;
      return prim;
    };
    connectPrimitive(sampler, 'seed', 4242, [600, 600]);
    connectPrimitive(encode, 'prompt', 'three people from a Primitive node', [600, 700]);
    graph.setDirtyCanvas(true, true);
    const { output } = await window.app.graphToPrompt();
    return { workflow: JSON.parse(JSON.stringify(graph.serialize())), prompt: output,
             types: graph._nodes.map((n) => n.type) };
  });
  await page.screenshot({ path: join(artifactsDir, 'ui_to_api.png') });
  return result;
});
