import { expect, test } from '@playwright/test';
import { ADMIN, VIEWER, hydrated, open, signInAs, waitForApp } from './helpers';

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
});

test('an admin corrects a recorded run: a bad value is named, a good one is saved', async ({ page }, info) => {
  await signInAs(page, info, ADMIN);
  await open(page, info, '/poc?format=json&compression=none');
  const runs = page.getByRole('region', { name: /Recorded runs/ });
  const first = runs.getByRole('row').nth(1);
  await first.locator('summary', { hasText: 'Correct' }).click();
  await first.getByLabel('load_seconds').fill('quick');
  await first.getByRole('button', { name: /^Save run/ }).click();
  await expect(page.getByText('a measurement is not a number of zero or more')).toBeVisible();

  await waitForApp(page, info);
  const again = page.getByRole('region', { name: /Recorded runs/ }).getByRole('row').nth(1);
  // Without JavaScript the page came back with the form closed; hydrated, it may still be open.
  if (!(await again.getByLabel('load_seconds').isVisible())) {
    await again.locator('summary', { hasText: 'Correct' }).click();
  }
  const note = `checked by e2e (${info.project.name})`;
  await again.getByLabel('load_seconds').fill('600.5');
  await again.getByLabel('notes').fill(note);
  await again.getByRole('button', { name: /^Save run/ }).click();
  await expect(page.getByRole('region', { name: /Recorded runs/ })).toContainText(note);
  await expect(page.getByRole('region', { name: /Recorded runs/ })).toContainText('600.5');
});

test('each point of the scatter charts has its system colour, as the legend says', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/poc');
  for (const system of ['sys-0', 'sys-1']) {
    const legend = await page.locator(`span.legend.${system}`).first().evaluate((e) => getComputedStyle(e).backgroundColor);
    const dots = page.locator(`figure.chart circle.${system}`);
    expect(await dots.count()).toBeGreaterThan(0);
    const fill = await dots.first().evaluate((e) => getComputedStyle(e).fill);
    expect(fill, `${system} points`).toBe(legend);
  }
});

test('an admin issues a recording token and sees it once; without JavaScript the page says why it cannot', async ({ page }, info) => {
  await signInAs(page, info, ADMIN);
  await open(page, info, '/poc');
  const issue = page.getByRole('button', { name: 'Issue a token' });
  if (!hydrated(info)) {
    // The answer is the only place the token is shown: a plain form post would lose it.
    await expect(issue).toBeDisabled();
    await expect(page.getByText('Showing a new token once needs JavaScript.')).toBeVisible();
    return;
  }
  await expect(page.getByText('Showing a new token once needs JavaScript.')).toHaveCount(0);
  await page.getByLabel('What it is for').fill('e2e recorder');
  await issue.click();
  const shown = page.getByRole('alert').filter({ hasText: 'shown only this once' });
  const token = await shown.getByRole('textbox').inputValue();
  expect(token.length).toBeGreaterThan(20);
  await page.reload();
  await waitForApp(page, info);
  await expect(page.getByText(token)).toHaveCount(0);
  await expect(page.getByRole('row').filter({ hasText: 'e2e recorder' })).toHaveCount(1);
});
