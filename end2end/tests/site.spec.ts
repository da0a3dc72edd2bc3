import { expect, test } from '@playwright/test';
import { ADMIN, open, signInAs, waitForApp } from './helpers';

// The release binary carries the site: run alone from an empty folder, it serves the wasm, JS and
// CSS compressed, with validators a browser revalidates cheaply. The test command runs this file
// against that copy (MCMS_SITE_ROOT=embedded); a site served from a folder is tower-http's.
test.describe('the site inside the binary', () => {
  test.skip(process.env.MCMS_SITE_ROOT !== 'embedded', 'only the deployed binary serves its own copy');

  for (const [file, type] of [['mcms.wasm', 'application/wasm'], ['mcms.js', 'javascript'], ['mcms.css', 'text/css']]) {
    test(`${file} comes compressed, typed and revalidated with a 304`, async ({ request }) => {
      const br = await request.get(`/pkg/${file}`, { headers: { 'accept-encoding': 'br' } });
      expect(br.status()).toBe(200);
      expect(br.headers()['content-encoding']).toBe('br');
      expect(br.headers()['content-type']).toContain(type);
      const etag = br.headers()['etag'];
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

      const gzip = await request.get(`/pkg/${file}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(gzip.headers()['content-encoding']).toBe('gzip');
      const plain = await request.get(`/pkg/${file}`, { headers: { 'accept-encoding': 'identity' } });
      expect(plain.headers()['content-encoding']).toBeUndefined();
      expect(Number(plain.headers()['content-length'])).toBeGreaterThan(Number(br.headers()['content-length']));

      const again = await request.get(`/pkg/${file}`, { headers: { 'if-none-match': etag } });
      expect(again.status()).toBe(304);
    });
  }

  // The release build compiles a bundle per kind of page (frontend/bundles, scripts/lib.sh): a first
  // visit downloads the bundle with its own islands only, not every island's code.
  test('a page with islands downloads only its own bundle: at most 250 KB gzip of script and wasm', async ({ page, request }, info) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    await signInAs(page, info, ADMIN);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    let loaded: string[] = [];
    page.on('request', (r) => {
      if (/\/pkg\/[^/]+\.(js|wasm)$/.test(r.url())) loaded.push(new URL(r.url()).pathname);
    });
    const gzipBytes = async (path: string) => {
      const answer = await request.get(path, { headers: { 'accept-encoding': 'gzip' } });
      expect(answer.headers()['content-encoding']).toBe('gzip');
      return Number(answer.headers()['content-length']);
    };
    const firstVisit = async (bundle: string, reach: () => Promise<unknown>) => {
      loaded = [];
      await reach();
      await waitForApp(page, info);
      expect(loaded.sort()).toEqual([`/pkg/mcms-${bundle}.js`, `/pkg/mcms-${bundle}.wasm`]);
      const bytes = (await Promise.all(loaded.map(gzipBytes))).reduce((a, b) => a + b, 0);
      info.annotations.push({ type: 'first visit', description: `${page.url()}: ${bytes} B gzip` });
      expect(bytes, `${page.url()} loads ${bytes} B gzip`).toBeLessThanOrEqual(250_000);
    };

    await firstVisit('cost-form', () => open(page, info, '/costs/new'));
    await firstVisit('import', () => open(page, info, '/costs/import'));
    const csv = 'Date,Game,Channel,Campaign,Country,Vendor,Cost type,Currency,Amount\n' +
      '2026-11-02,STARFALL,GOOGLE_ADS,SF_LAUNCH_KR,KR,SEOUL_PERF,FLAT,KRW,=1+1\n';
    await page.getByLabel('File (CSV or Excel .xlsx)').setInputFiles({ name: 'bundle.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await firstVisit('import', async () => {
      await page.getByRole('button', { name: 'Read and check' }).click();
      await page.waitForURL(/\/costs\/import\/\d+$/);
    });
    await expect(page.getByRole('heading', { level: 1, name: 'bundle.csv' })).toBeVisible();
    await firstVisit('consoles', () => open(page, info, '/poc'));
    await open(page, info, '/partners');
    await firstVisit('consoles', async () => {
      await page.getByRole('table').first().getByRole('link').first().click();
      await page.waitForURL(/\/partners\/\d+$/);
    });
    expect(errors, errors.join('\n')).toEqual([]);
  });

  test('an unknown file is a 404, and an unknown page the app\'s own', async ({ request }) => {
    expect((await request.get('/pkg/nothing.js')).status()).toBe(404);
    const page = await request.get('/no/such/page');
    expect(page.status()).toBe(404);
    expect(await page.text()).toContain('<html');
    // Nothing from the folder the binary runs in is served.
    expect((await request.get('/mcms')).status()).toBe(404);
  });
});
