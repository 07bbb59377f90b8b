// Loads the ComfyUI frontend, waits for the app, reports whether the DEIG nodes are registered, then
// loads each of the pack's example workflows from the server's template route (as the template
// browser does) and reports what the frontend made of it: its API prompt and the Note text.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';

await runBrowser(async ({ page, baseUrl, artifactsDir }) => {
  await openComfy(page, baseUrl);
  const info = await page.evaluate(() => {
    const types = Object.keys(window.LiteGraph.registered_node_types);
    return {
      deigNodes: types.filter((t) => t.startsWith('DEIG_')).sort(),
      nodeTypeCount: types.length,
      title: document.title,
    };
  });
  await page.screenshot({ path: join(artifactsDir, 'ui_loaded.png') });
  info.templates = await page.evaluate(async () => {
    const listing = await (await fetch('/workflow_templates')).json();
    const out = {};
    for (const [pack, names] of Object.entries(listing)) {
      if (!/deig/i.test(pack)) continue;
      for (const name of names) {
        const wf = await (await fetch(`/api/workflow_templates/${pack}/${name}.json`)).json();
        await window.app.loadGraphData(wf);
        const { output } = await window.app.graphToPrompt();
        const note = window.app.graph._nodes.find((n) => n.type === 'Note');
        out[name] = { prompt: output, note: note ? note.widgets[0].value : null };
      }
    }
    return out;
  });
  await page.screenshot({ path: join(artifactsDir, 'example_workflow_loaded.png') });
  return info;
});
