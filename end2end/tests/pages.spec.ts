import { expect, Page, test } from '@playwright/test';
import { ADMIN, BUILDER, MARKETER, VIEWER, open, signInAs } from './helpers';

// Every page, for every role that may see it, loads and hydrates without a single page error: an
// SSR/client mismatch (a panic while hydrating) or any uncaught exception fails the pass. The test
// command runs this file against the release build too, which is what gets deployed.
const PAGES: Record<string, string[]> = {
  [VIEWER]: ['/', '/costs', '/costs/budgets', '/costs/master', '/costs/rates', '/poc', '/pipelines',
    '/pipelines/month-batch', '/pipelines/month-batch/versions', '/models', '/models/churn'],
  [BUILDER]: ['/', '/costs', '/poc', '/pipelines', '/pipelines/new', '/pipelines/agency-csv',
    '/pipelines/agency-csv/edit', '/pipelines/agency-csv/versions', '/models', '/models/segment', '/ingest',
    '/ingest?location=agency%2F*.csv&table=marketing.costs', '/ingest/watches'],
  [MARKETER]: ['/', '/costs', '/costs/new', '/costs/import', '/costs/budgets', '/costs/master', '/costs/rates',
    '/poc'],
  [ADMIN]: ['/', '/costs', '/costs/new', '/costs/import', '/costs/budgets', '/costs/master', '/costs/rates',
    '/partners', '/poc', '/admin/users', '/admin/periods', '/admin/audit', '/pipelines', '/pipelines/new',
    '/ingest', '/ingest/watches'],
};

function collectErrors(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /panicked|unreachable|RuntimeError/.test(m.text())) errors.push(`${page.url()}: ${m.text()}`);
  });
  return errors;
}

for (const [who, paths] of Object.entries(PAGES)) {
  test(`every page a ${who.split('@')[0]} may see hydrates without errors`, async ({ page }, info) => {
    test.skip(info.project.name !== 'js', 'hydration needs JavaScript');
    const errors = collectErrors(page);
    await signInAs(page, info, who);
    for (const path of paths) {
      await open(page, info, path);
      await expect(page.locator('main h1').first()).toBeVisible();
    }
    // Pages reached by following links: the first entry, partner and import batch shown.
    if (who !== VIEWER && who !== BUILDER) {
      await open(page, info, '/costs');
      const entry = page.getByRole('table').first().getByRole('link').first();
      await entry.click();
      await expect(page).toHaveURL(/\/costs\/\d+$/);
      await expect(page.locator('main h1').first()).toBeVisible();
    }
    if (who === ADMIN) {
      await open(page, info, '/partners');
      await page.getByRole('table').first().getByRole('link').first().click();
      await expect(page).toHaveURL(/\/partners\/\d+$/);
      await expect(page.locator('main h1').first()).toBeVisible();
    }
    expect(errors, errors.join('\n')).toEqual([]);
  });
}

test('only what changes in the browser is an island; everything else is server-rendered HTML', async ({ page }, info) => {
  await signInAs(page, info, ADMIN);
  const islands = async (path: string) => {
    await open(page, info, path);
    return page.locator('leptos-island').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.component!.replace(/_\d+$/, '')));
  };
  expect(await islands('/')).toEqual([]);
  expect(await islands('/costs')).toEqual([]);
  expect(await islands('/costs/new')).toEqual(['CostEditor']);
  expect(await islands('/costs/import')).toEqual(['UploadForm']);
  expect(await islands('/admin/users')).toEqual([]);
  expect(await islands('/poc')).toEqual(['TokenIssuer']);
  expect(await islands('/pipelines')).toEqual([]);
  expect(await islands('/pipelines/month-batch')).toEqual([]);
  expect(await islands('/pipelines/month-batch/edit')).toEqual(['PipelineEditor']);
  expect(await islands('/models')).toEqual([]);
  // "Try it": each number checked as typed (the category is a list).
  expect(await islands('/models/churn')).toEqual(Array(7).fill('TryInput'));
  await open(page, info, '/partners');
  await page.getByRole('link', { name: 'Kakao Games Channeling' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  expect(await page.locator('leptos-island').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.component!.replace(/_\d+$/, ''))))
    .toEqual(['KeyConsole', 'AllowlistInput']);
});

test('a page without islands loads no browser code; a page with one loads it', async ({ page }, info) => {
  test.skip(info.project.name !== 'js', 'scripts run only with JavaScript');
  await signInAs(page, info, ADMIN);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const scripts: string[] = [];
  page.on('request', (r) => {
    if (/\/pkg\/[^/]+\.(js|wasm)$/.test(r.url())) scripts.push(new URL(r.url()).pathname);
  });
  for (const path of ['/', '/costs', '/admin/users', '/costs/budgets']) {
    await open(page, info, path);
  }
  expect(scripts).toEqual([]);
  await open(page, info, '/costs/new');
  // The release build cuts a bundle per kind of page (site.spec.ts weighs them); a debug build has
  // only the whole one.
  const bundle = process.env.MCMS_SITE_ROOT === 'embedded' ? '/pkg/mcms-cost-form' : '/pkg/mcms';
  expect(scripts.sort()).toEqual([`${bundle}.js`, `${bundle}.wasm`]);
});
