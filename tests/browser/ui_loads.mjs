// Loads the ComfyUI frontend, waits for the app, reports whether the DEIG nodes are registered.
import { join } from 'node:path';
import { runBrowser, openComfy } from './driver.mjs';

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
  return info;
});
