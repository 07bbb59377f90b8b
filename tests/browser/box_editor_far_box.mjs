// Issue #23: a box far outside the image is refused the same way wherever it is typed (argv: MODE).
// In the JSON view [0.5, 0.5, 1.4, 1.2] shows the backend's error and the editor keeps the typed
// text unchanged (nothing clamped); a box past the edge within the tolerance is accepted and
// clamped; the pixel field refuses x2 beyond the image. Screenshots far_box_*.png; prints one JSON
// object; the test asserts.
import { join } from 'node:path';
import { runBrowser, openComfy } from '../../devkit/js/driver.mjs';
import * as L from '../../devkit/js/box_editor_lib.mjs';

const FAR = '[{"box": [0.1, 0.1, 0.3, 0.3], "text": "a kite"}, {"box": [0.5, 0.5, 1.4, 1.2], "text": "a dog far outside"}]';
const NEAR = '[{"box": [0.1, 0.1, 0.3, 0.3], "text": "a kite"}, {"box": [0.5, 0.5, 1.04, 1.02], "text": "a dog at the edge"}]';

await runBrowser(async ({ page, baseUrl, artifactsDir, args }) => {
  const [mode] = args;
  await page.setViewportSize(L.VIEWPORT);
  await L.prepareSettings(baseUrl, { vueNodes: mode === 'vue' });
  await openComfy(page, baseUrl);
  const id = await L.addLayoutNode(page);
  const ed = L.editorLocator(page, id);
  const out = { mode };

  await ed.locator('.deig-be-toolbar').getByRole('button', { name: 'JSON', exact: true }).click();
  const raw = ed.locator('.deig-be-raw-text');
  await raw.fill(FAR);
  const error = ed.locator('.deig-be-error');
  await error.waitFor({ state: 'visible' });
  out.far = { error: await error.innerText(), value: (await L.editorState(page, id)).value };
  await page.screenshot({ path: join(artifactsDir, `far_box_json_${mode}.png`) });

  await raw.fill(NEAR);
  await error.waitFor({ state: 'hidden' });
  out.near = { value: (await L.editorState(page, id)).value };

  // The same box typed in the pixel fields: x2 beyond the image is refused at the field.
  const c = await L.toScreen(page, id, 0.2, 0.2);
  await page.mouse.click(c.x, c.y);
  const x2 = ed.locator('input[data-coord="x2"]');
  const msg = ed.locator('.deig-be-field-msg');
  await x2.fill('717');   // 1.4 x 512
  await x2.press('Enter');
  await msg.filter({ hasText: 'between' }).waitFor();
  out.pixel = { message: await msg.innerText(), value: (await L.editorState(page, id)).value };
  await page.screenshot({ path: join(artifactsDir, `far_box_pixels_${mode}.png`) });
  return out;
}, { viewport: L.VIEWPORT, timeout: 120000 });
