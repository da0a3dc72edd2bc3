import { expect, test } from '@playwright/test';
import { VIEWER, hydrated, open, signInAs, waitForApp } from './helpers';

test('a viewer reads the PoC report and filters it to Parquet', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/poc');
  await expect(page.getByRole('heading', { level: 1, name: /Redshift vs Snowflake/ })).toBeVisible();
  const verdicts = page.getByRole('region', { name: 'Verdict per scenario' });
  await expect(verdicts.getByRole('row').filter({ hasText: 'batch_copy' })).toContainText('snowflake');
  const comparison = page.getByRole('region', { name: 'Relative comparison' });
  await expect(comparison).toContainText('csv / gzip');
  await expect(comparison).toContainText('failed');
  await expect(page.getByRole('region', { name: /Failed runs/ })).toContainText('warehouse timeout');
  const chart = page.getByRole('img', { name: 'batch_copy: seconds per run' });
  await expect(chart).toBeVisible();
  const csvBars = chart.locator('g').filter({ hasText: 'csv/gzip' });
  expect(await csvBars.count()).toBeGreaterThan(0);

  await page.getByLabel('File format').selectOption('parquet');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/format=parquet/);
  await waitForApp(page, info);
  const filtered = page.getByRole('region', { name: 'Relative comparison' });
  await expect(filtered).not.toContainText('csv / gzip');
  await expect(filtered).toContainText('parquet / snappy');
  await expect(page.getByRole('region', { name: /Failed runs/ })).toHaveCount(0);
  await expect(page.getByRole('img', { name: 'batch_copy: seconds per run' }).locator('g').filter({ hasText: 'csv/gzip' })).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: 'Runs shown' })).toContainText('Runs shown: 30');
  await expect(page.getByRole('link', { name: 'Download these runs (CSV)' })).toHaveAttribute('href', /format=parquet/);
  if (hydrated(info)) {
    // A client-side navigation: the page was not reloaded.
    await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  }
});
