import { expect, test } from '@playwright/test';
import { MARKETER, monthsAgo, open, signInAs, waitForApp } from './helpers';

test('a marketer sets a budget and sees the campaign over it', async ({ page }, info) => {
  await signInAs(page, info, MARKETER);
  await open(page, info, '/costs');
  await page.getByRole('link', { name: 'Budgets' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Budgets' })).toBeVisible();
  // Last month, which the demo fills whole: this month may have no spend yet in its first days.
  await open(page, info, `/costs/budgets?month=${monthsAgo(1)}`);
  const lines = page.getByRole('table').first();
  const row = lines.getByRole('row', { name: /SF_LAUNCH_KR/ });
  await expect(row).toContainText('On track');
  await page.getByLabel('Set budget SF_LAUNCH_KR').fill('100,000');
  await row.getByRole('button', { name: 'Save' }).click();
  await expect(lines.getByRole('row', { name: /SF_LAUNCH_KR/ })).toContainText('Over budget');
  await expect(lines.getByRole('row', { name: /SF_LAUNCH_KR/ }).getByRole('cell').nth(0)).toHaveText('100,000');

  await waitForApp(page, info);
  await page.getByLabel('Set budget SF_LAUNCH_KR').fill('12.5');
  await lines.getByRole('row', { name: /SF_LAUNCH_KR/ }).getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert')).toHaveText('Too many decimals for the currency.');
  await page.getByLabel('Set budget SF_LAUNCH_KR').fill('60,000,000');
  await lines.getByRole('row', { name: /SF_LAUNCH_KR/ }).getByRole('button', { name: 'Save' }).click();
  await expect(lines.getByRole('row', { name: /SF_LAUNCH_KR/ })).not.toContainText('Over budget');
  const changes = page.getByRole('region', { name: "Changes to this month's budgets" });
  // Newest first: the change just made, from the budget before it.
  await expect(changes.getByRole('row').nth(1)).toContainText(/SF_LAUNCH_KR\s*100,000\s*60,000,000/);
});
