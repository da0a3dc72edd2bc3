// Time to interactive of a page on a cold cache in Chromium with the CPU slowed 4× (CDP), and what
// the browser transferred for it. "Interactive" is the app's own mark: the body gets
// `data-hydrated` once hydration has attached every handler. Prints one JSON line per run and the
// median. Usage: node bench/tti.mjs BASE_URL PATH [RUNS]   (signs in as the demo marketer)
import { chromium } from '@playwright/test';

const [base = 'http://127.0.0.1:3000', path = '/costs/new', runs = '5'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const results = [];
for (let i = 0; i < Number(runs); i++) {
  const context = await browser.newContext({ baseURL: base, locale: 'en-US' });
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Email').fill('marketer@mcms.example');
  await page.getByLabel('Password').fill('mcms-demo-2026');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.clearBrowserCache');
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const bytes = { total: 0, script: 0 };
  const urls = new Map();
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    bytes.total += e.encodedDataLength;
    if (/\.(wasm|js)$/.test(urls.get(e.requestId) ?? '')) bytes.script += e.encodedDataLength;
  });
  const started = Date.now();
  await page.goto(path, { waitUntil: 'commit' });
  await page.locator('body[data-hydrated]').waitFor({ state: 'attached', timeout: 60_000 });
  const tti = Date.now() - started;
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType('navigation')[0];
    return { domContentLoaded: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd) };
  });
  const run = { path, tti_ms: tti, ...nav, transferred_bytes: bytes.total, script_bytes: bytes.script };
  console.log(JSON.stringify(run));
  results.push(run);
  await context.close();
}
await browser.close();
const median = (k) => results.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(results.length / 2)];
console.log(JSON.stringify({ median_tti_ms: median('tti_ms'), median_script_bytes: median('script_bytes'),
  median_transferred_bytes: median('transferred_bytes'), runs: results.length, cpu_throttling: 4 }));
