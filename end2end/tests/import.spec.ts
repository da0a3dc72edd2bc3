import { expect, test } from '@playwright/test';
import { MARKETER, VIEWER, hydrated, open, signInAs, waitForApp } from './helpers';

test('a marketer uploads a file with an error, fixes the cell in the grid, imports, sees and rolls back the batch', async ({ page }, info) => {
  // Each project imports its own rows (a country the demo does not use), so the two never collide.
  const country = hydrated(info) ? 'MN' : 'NP';
  const day = new Date(Date.now() + 9 * 3600 * 1000 - 86400 * 1000).toISOString().slice(0, 10);
  const csv =
    'Date,Game,Channel,Campaign,Country,Vendor,Cost type,Currency,Amount\n' +
    `${day},STARFALL,GOOGLE_ADS,SF_LAUNCH_KR,${country},SEOUL_PERF,FLAT,KRW,"150,000"\n` +
    `${day},STARFALL,GOOGLE_ADS,SF_LAUNCH_KR,${country},SEOUL_PERF,CREATIVE,KRW,=I2*2\n`;
  await signInAs(page, info, MARKETER);
  await open(page, info, '/costs/import');
  await page.getByLabel('File (CSV or Excel .xlsx)').setInputFiles({ name: `agency-${country}.csv`, mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Read and check' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `agency-${country}.csv` })).toBeVisible();
  await expect(page.getByText('A formula, not a value')).toBeVisible();
  // A cell's message wraps inside its column instead of stretching the grid.
  const note = page.locator('.cell-note').first();
  expect(await note.evaluate((e) => getComputedStyle(e).whiteSpace)).toBe('normal');
  expect((await note.boundingBox())!.width).toBeLessThanOrEqual(22 * 16 + 1);
  await expect(page.getByRole('button', { name: 'Import every row' })).toBeDisabled();
  await waitForApp(page, info);

  const cell = page.getByLabel('Row 3 Amount');
  await cell.fill('80,000');
  if (hydrated(info)) {
    await cell.press('Tab'); // the change alone re-checks the row
  } else {
    await page.getByRole('row', { name: /^3/ }).getByRole('button', { name: 'Check row' }).click();
  }
  await expect(page.getByText('Every row passes the rules: ready to import.')).toBeVisible();
  await expect(page.getByText('A formula, not a value')).toHaveCount(0);
  await expect(page.getByText('230,000 KRW')).toBeVisible();

  const accept = page.getByLabel('I have read the warnings');
  if (await accept.count()) await accept.check();
  await page.getByRole('button', { name: 'Import every row' }).click();
  await expect(page).toHaveURL(/\/costs\/import\/batches\/\d+$/);
  const batch = page.getByRole('row').filter({ hasText: `agency-${country}.csv` });
  await expect(batch).toContainText('230,000 KRW');
  await waitForApp(page, info);

  await batch.getByRole('button', { name: 'Roll back' }).click();
  await expect(page.getByRole('row').filter({ hasText: `agency-${country}.csv` })).toContainText('Rolled back');
});

test('a viewer cannot reach the importer', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/costs/import');
  await expect(page.getByRole('button', { name: 'Read and check' })).toHaveCount(0);
});
