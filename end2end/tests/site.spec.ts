import { expect, test } from '@playwright/test';

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

  test('an unknown file is a 404, and an unknown page the app\'s own', async ({ request }) => {
    expect((await request.get('/pkg/nothing.js')).status()).toBe(404);
    const page = await request.get('/no/such/page');
    expect(page.status()).toBe(404);
    expect(await page.text()).toContain('<html');
    // Nothing from the folder the binary runs in is served.
    expect((await request.get('/mcms')).status()).toBe(404);
  });
});
