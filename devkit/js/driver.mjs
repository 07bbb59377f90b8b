// Shared browser driver for the browser tests: system Chromium through playwright-core.
// A test script does:
//   import { runBrowser, openComfy } from "../../devkit/js/driver.mjs";
//   await runBrowser(async ({ page, baseUrl, artifactsDir }) => { await openComfy(page, baseUrl); return {...}; });
// It is run as `node script.mjs BASE_URL ARTIFACTS_DIR [ARGS...]` (devkit/browser.py) and prints one
// JSON line: what the callback returned plus consoleErrors/pageErrors/requestFailures/deprecations. On an
// exception it saves failure.png, prints {"error": ...} and exits 1.
// `deprecations`: every console.warn that says "deprecat", with the JS stack of the call, so a test can
// tell the pack's own calls (its /extensions/<pack>/ URL in the stack) from the frontend's.
import { chromium } from 'playwright-core';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.DEIG_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function cliArgs() {
  const [baseUrl, artifactsDir, ...rest] = process.argv.slice(2);
  if (!baseUrl || !artifactsDir) throw new Error('usage: node SCRIPT BASE_URL ARTIFACTS_DIR [ARGS...]');
  return { baseUrl: baseUrl.replace(/\/$/, ''), artifactsDir, rest };
}

export async function runBrowser(fn, { viewport = { width: 1280, height: 800 }, timeout = 60000 } = {}) {
  const { baseUrl, artifactsDir, rest } = cliArgs();
  await mkdir(artifactsDir, { recursive: true });
  const userDataDir = await mkdtemp(join(tmpdir(), 'deig-chromium-'));
  const consoleErrors = [], pageErrors = [], requestFailures = [];
  let context, page, code = 0;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, timeout,
    });
    context.setDefaultTimeout(timeout);
    page = context.pages()[0] || await context.newPage();
    await page.addInitScript(recordDeprecations);
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push({ text: m.text(), url: m.location().url || '' }); });
    page.on('pageerror', (e) => pageErrors.push(String(e && e.stack || e)));
    page.on('requestfailed', (r) => requestFailures.push({ url: r.url(), error: r.failure()?.errorText || '' }));
    const result = await fn({ page, context, baseUrl, artifactsDir, args: rest });
    const deprecations = await page.evaluate(() => window.__deigDeprecations || []).catch(() => []);
    emit({ ...(result || {}), consoleErrors, pageErrors, requestFailures, deprecations });
  } catch (err) {
    code = 1;
    if (page) await page.screenshot({ path: join(artifactsDir, 'failure.png') }).catch(() => {});
    emit({ error: String(err && err.stack || err), consoleErrors, pageErrors, requestFailures });
  } finally {
    if (context) await context.close().catch(() => {});
    await rm(userDataDir, { recursive: true, force: true }).catch(() => {});
  }
  process.exit(code);
}

// Runs in the page before any of its scripts: keep console.warn as is, and note deprecation warnings
// with their stack. LiteGraph says each deprecation once per page; openComfy makes it repeat them.
function recordDeprecations() {
  Error.stackTraceLimit = 50;   // deep enough to reach the calling extension's frame
  const list = (window.__deigDeprecations = []);
  const warn = console.warn.bind(console);
  console.warn = (...args) => {
    const text = args.map((a) => (typeof a === 'string' ? a : String(a?.message ?? a))).join(' ');
    if (/deprecat/i.test(text)) list.push({ text, stack: String(new Error().stack) });
    return warn(...args);
  };
}

function emit(obj) { process.stdout.write('\n' + JSON.stringify(obj) + '\n'); }

// Open the ComfyUI frontend and wait until the app has loaded the node definitions into LiteGraph.
export async function openComfy(page, baseUrl, { timeout = 90000 } = {}) {
  await page.goto(baseUrl + '/', { waitUntil: 'domcontentloaded', timeout });
  await page.waitForFunction(() => {
    const app = window.app, LG = window.LiteGraph;
    return !!(app && app.graph && app.canvas && LG && LG.registered_node_types
      && Object.keys(LG.registered_node_types).length > 50);
  }, null, { timeout, polling: 200 });
  await page.evaluate(() => { window.LiteGraph.alwaysRepeatWarnings = true; });
}

