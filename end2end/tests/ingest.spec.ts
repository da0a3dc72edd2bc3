import { expect, test } from '@playwright/test';
import { BUILDER, VIEWER, hydrated, open, signInAs, waitForApp } from './helpers';

// The demo's data directory holds the agencies' cost sheets (agency/*.csv): the lab surveys them
// as a new user would, and a watch loads them.

test('a builder infers the agency sheets, copies the statements and rewrites them as planned', async ({ page, context }, info) => {
  await signInAs(page, info, BUILDER);
  await open(page, info, '/ingest');
  await page.getByLabel('Location', { exact: true }).fill('agency/*.csv');
  await page.getByLabel('Target table').fill('marketing.agency_costs');
  await page.getByLabel('Warehouses load from').fill('s3://lake/agency/');
  await page.getByRole('button', { name: 'Infer and plan' }).click();
  await waitForApp(page, info);

  const columns = page.getByRole('table', { name: 'Inferred columns' });
  await expect(columns).toContainText('Spend');
  await expect(columns).toContainText('Currency');
  const snowflake = page.locator('#snowflake');
  await expect(snowflake).toContainText('COPY INTO marketing.agency_costs');
  await expect(page.locator('#redshift')).toContainText("FROM 's3://lake/agency/");
  const copy = page.getByRole('button', { name: 'Copy' }).first();
  if (hydrated(info)) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await copy.click();
    await expect(page.getByRole('status').filter({ hasText: 'Copied.' })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('COPY INTO marketing.agency_costs');
  } else {
    // Without JavaScript there is nothing to click: the text is selected as any other.
    await expect(copy).toBeHidden();
  }
  await expect(page.getByRole('heading', { name: 'Proposed layout', exact: true })).toBeVisible();

  const folder = `agency-${info.project.name}-${Date.now()}`;
  await page.getByLabel('Folder').fill(folder);
  await page.getByRole('button', { name: 'Rewrite' }).click();
  await waitForApp(page, info);
  await expect(page.getByRole('alert').filter({ hasText: `Rewritten into ${folder}` })).toBeVisible();
  // The survey is still there, as it was asked for.
  await expect(page.locator('#snowflake')).toContainText('COPY INTO');
});

test('a builder starts a watch on the agency sheets, reads its load history and stops it', async ({ page }, info) => {
  await signInAs(page, info, BUILDER);
  await open(page, info, '/ingest/watches');
  const name = `agency-${info.project.name}-${Date.now()}`;
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Location').fill('agency/*.csv');
  await page.getByLabel('Target', { exact: true }).fill(`lake/${name}.db`);
  await page.getByLabel('Target table').fill('agency_costs');
  await page.getByRole('button', { name: 'Create and start' }).click();
  await waitForApp(page, info);
  await expect(page.getByRole('heading', { level: 1, name: `Watch ${name}` })).toBeVisible();

  // An instance picks it up within seconds and loads both sheets once.
  const history = page.getByRole('table', { name: 'Load history' });
  await expect(async () => {
    await page.reload();
    await expect(history.getByRole('row').filter({ hasText: 'loaded' })).toHaveCount(2, { timeout: 1_000 });
  }).toPass({ timeout: 30_000 });
  await expect(history).toContainText('seoul-performance');
  await expect(page.getByRole('img', { name: /Arrival to queryable per file/ })).toBeVisible();

  await page.getByRole('button', { name: 'Stop' }).click();
  await waitForApp(page, info);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('stopped');
  await expect(page.getByRole('button', { name: 'Start' })).toBeVisible();
});

test('a viewer does not see the lab', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ingestion lab' })).toHaveCount(0);
  const response = await page.goto('/ingest');
  expect(response?.status()).toBe(403);
});
