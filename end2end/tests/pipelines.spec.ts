import { expect, Page, TestInfo, test } from '@playwright/test';
import { BUILDER, VIEWER, hydrated, open, signInAs, waitForApp } from './helpers';

/** A pipeline that reads a week of partner statistics and writes them as CSV into the data folder. */
const good = (description: string) => `version: 1
description: ${description}
connections:
  out: { kind: folder, path: e2e-out }
steps:
  - name: stats
    source: { partner_stats: { from: "2026-10-01", to: "2026-10-07" } }
  - name: per_game
    transform: { sql: "SELECT game, sum(new_users) AS new_users FROM stats GROUP BY game" }
  - name: store
    sink: { files: { input: per_game, connection: out, path: per-game, format: csv } }
`;

const unique = (info: TestInfo) => `e2e-${info.project.name}-${Date.now() % 1_000_000}`;

async function save(page: Page, info: TestInfo) {
  await page.getByRole('button', { name: 'Save as a new version' }).click();
  await waitForApp(page, info);
}

test('a builder writes a pipeline: a mistake is named on its line, then it is saved, run and its results shown', async ({ page }, info) => {
  await signInAs(page, info, BUILDER);
  await open(page, info, '/pipelines/new');
  const name = unique(info);
  await page.getByLabel('Name').fill(name);
  const file = page.getByLabel(/Pipeline file/);
  // The sink reads a step that does not exist (line 11).
  await file.fill(good('Per game, one week.').replace('input: per_game', 'input: per_gmae'));
  if (!hydrated(info)) {
    // Without JavaScript the server checks it on save and sends the page back with the text.
    await save(page, info);
    await expect(page.getByLabel(/Pipeline file/)).toHaveValue(/per_gmae/);
  }
  const problem = page.locator('.problems li').first();
  await expect(problem).toContainText('Line 11, column');
  await expect(problem).toContainText('no step is named `per_gmae`');

  if (hydrated(info)) {
    // Sound structure, but SQL naming a column the statistics do not have: the server's plan says so.
    await file.fill(good('Per game, one week.').replace('sum(new_users)', 'sum(new_players)'));
    await expect(page.locator('.problems li').first()).toContainText('new_players', { timeout: 15_000 });
    await expect(page.locator('.problems li').first()).toContainText('Line 9,');
  }

  await page.getByLabel(/Pipeline file/).fill(good('Per game, one week.'));
  if (hydrated(info)) {
    await expect(page.getByText('No problems: the structure is sound and every step')).toBeVisible({ timeout: 15_000 });
  }
  await save(page, info);
  await expect(page).toHaveURL(new RegExp(`/pipelines/${name}$`));
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  const lineage = page.getByRole('img', { name: `Lineage of ${name}: sources, steps and sinks` });
  await expect(lineage).toContainText('stats');
  await expect(lineage).toContainText('per_game');
  await expect(lineage.locator('path.lineage-edge')).toHaveCount(2);

  await page.getByRole('button', { name: 'Run now' }).click();
  await expect(page).toHaveURL(new RegExp(`/pipelines/${name}/runs/\\d+$`));
  // The page reloads itself while the run goes on.
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Succeeded', { timeout: 30_000 });
  const steps = page.getByRole('table', { name: 'Steps' });
  await expect(steps.getByRole('row')).toHaveCount(4);
  await expect(steps.getByRole('row').filter({ hasText: 'store' })).toContainText('per-game');

  // The list shows it with its last run.
  await open(page, info, '/pipelines');
  await expect(page.getByRole('row').filter({ hasText: name })).toContainText('Succeeded');
});

test('a change is a new version: who, why and the diff', async ({ page }, info) => {
  await signInAs(page, info, BUILDER);
  await open(page, info, '/pipelines/new');
  const name = unique(info);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel(/Pipeline file/).fill(good('First words.'));
  await save(page, info);
  await expect(page).toHaveURL(new RegExp(`/pipelines/${name}$`));

  await page.getByRole('link', { name: 'Edit' }).click();
  await waitForApp(page, info);
  await page.getByLabel(/Pipeline file/).fill(good('Better words.'));
  await page.getByLabel('Note').fill('clearer description');
  await save(page, info);
  await expect(page.getByText('Version 2')).toBeVisible();

  await page.getByRole('link', { name: 'Versions' }).click();
  await expect(page.getByRole('row').filter({ hasText: 'clearer description' })).toContainText('Yuna Jung');
  await expect(page.locator('tr.diff-del')).toContainText('First words.');
  await expect(page.locator('tr.diff-add')).toContainText('Better words.');
});

test('two builders edit the same version: the later save is refused and keeps its text', async ({ page, browser }, info) => {
  await signInAs(page, info, BUILDER);
  await open(page, info, '/pipelines/new');
  const name = unique(info);
  await page.getByLabel('Name').fill(name);
  await page.getByLabel(/Pipeline file/).fill(good('Base.'));
  await save(page, info);

  const other = await browser.newPage({ javaScriptEnabled: hydrated(info) });
  await signInAs(other, info, BUILDER);
  await open(other, info, `/pipelines/${name}/edit`);
  await open(page, info, `/pipelines/${name}/edit`);
  await other.getByLabel(/Pipeline file/).fill(good('Theirs.'));
  await save(other, info);
  await expect(other).toHaveURL(new RegExp(`/pipelines/${name}$`));

  await page.getByLabel(/Pipeline file/).fill(good('Mine.'));
  await save(page, info);
  await expect(page.getByRole('alert').filter({ hasText: 'Someone saved a newer version' })).toBeVisible();
  await expect(page.getByLabel(/Pipeline file/)).toHaveValue(/Mine\./);
  await other.close();
});

test('a builder schedules a pipeline; a wrong cron expression is named', async ({ page }, info) => {
  await signInAs(page, info, BUILDER);
  await open(page, info, '/pipelines/agency-csv');
  await page.getByLabel('Cron expression').fill('every morning');
  await page.getByRole('button', { name: 'Save the schedule' }).click();
  await waitForApp(page, info);
  await expect(page.getByRole('alert').filter({ hasText: 'Not a cron expression' })).toBeVisible();
  await page.getByLabel('Cron expression').fill('0 6 * * *');
  await page.getByRole('button', { name: 'Save the schedule' }).click();
  await waitForApp(page, info);
  await expect(page.getByText(/Next run: \d{4}-\d\d-\d\d 06:00/)).toBeVisible();
  await page.getByRole('button', { name: 'Remove the schedule' }).click();
  await waitForApp(page, info);
  await expect(page.getByText('Not scheduled.').first()).toBeVisible();
});

test('a viewer reads pipelines and runs, and may not change them', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/pipelines');
  await expect(page.getByRole('link', { name: 'month-batch' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'New pipeline' })).toHaveCount(0);
  await page.getByRole('link', { name: 'month-batch' }).click();
  await expect(page.getByRole('img', { name: /Lineage of month-batch/ })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Run now' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Edit' })).toHaveCount(0);
  const edit = await page.goto('/pipelines/month-batch/edit');
  expect(edit?.status()).toBe(403);
});
