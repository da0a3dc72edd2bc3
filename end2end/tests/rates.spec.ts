import { expect, test } from '@playwright/test';
import { ADMIN, VIEWER, hydrated, open, signInAs, waitForApp } from './helpers';

test('an admin loads a rate file: a bad row stops it all, a good file lands', async ({ page }, info) => {
  // Each project loads a different day, two days ago and three days ago.
  const d = new Date(Date.now() + 9 * 3600 * 1000 - (hydrated(info) ? 2 : 3) * 86400 * 1000);
  const day = d.toISOString().slice(0, 10);
  await signInAs(page, info, ADMIN);
  await open(page, info, '/costs/rates');
  await page.getByLabel('Rate file (CSV)').fill(`currency,date,rate,source\nUSD,${day},1388.25,E2E desk\nWON,${day},1,E2E desk\n`);
  await page.getByRole('button', { name: 'Load rates' }).click();
  await expect(page.getByText('Row 3: unknown currency (WON)')).toBeVisible();
  const ours = page.getByRole('row').filter({ hasText: 'E2E desk' }).filter({ hasText: day });
  await expect(ours).toHaveCount(0);

  await waitForApp(page, info);
  await page.getByLabel('Rate file (CSV)').fill(`currency,date,rate,source\nUSD,${day},1388.25,E2E desk\n`);
  await page.getByRole('button', { name: 'Load rates' }).click();
  await expect(ours).toContainText('1388.250000');
});

test('a viewer reads rates but cannot load them', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/costs/rates');
  await expect(page.getByRole('heading', { level: 1, name: 'Exchange rates' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Load rates' })).toHaveCount(0);
  await expect(page.getByRole('row')).not.toHaveCount(1);
});

test('an admin corrects one rate: a bad value is named, the fixed one replaces it', async ({ page }, info) => {
  const d = new Date(Date.now() + 9 * 3600 * 1000 - (hydrated(info) ? 4 : 5) * 86400 * 1000);
  const day = d.toISOString().slice(0, 10);
  await signInAs(page, info, ADMIN);
  await open(page, info, '/costs/rates');
  const form = page.getByRole('region', { name: 'Add or correct a rate' });
  await form.getByLabel('Currency').selectOption('JPY');
  await form.getByLabel('Date').fill(day);
  await form.getByLabel('Rate (KRW)').fill('0');
  await form.getByLabel('Source').fill('E2E correction');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form.getByRole('alert')).toContainText('a rate must be above zero');
  const ours = page.getByRole('row').filter({ hasText: 'E2E correction' }).filter({ hasText: day });
  await expect(ours).toHaveCount(0);

  await waitForApp(page, info);
  await form.getByLabel('Currency').selectOption('JPY');
  await form.getByLabel('Date').fill(day);
  await form.getByLabel('Rate (KRW)').fill('9.31');
  await form.getByLabel('Source').fill('E2E correction');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(ours).toContainText('9.310000');
});
