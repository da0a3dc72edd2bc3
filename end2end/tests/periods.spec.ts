import { expect, test } from '@playwright/test';
import { ADMIN, MARKETER, hydrated, monthsAgo, open, signInAs, waitForApp } from './helpers';

test('an admin closes a month and reopens it only with a reason', async ({ page }, info) => {
  // Each project works on its own month, outside the demo data, so the runs do not meet.
  const month = monthsAgo(hydrated(info) ? 10 : 11);
  await signInAs(page, info, ADMIN);
  await open(page, info, '/admin/periods');
  await expect(page.getByRole('row', { name: new RegExp(month) })).toContainText('Open');
  await page.getByRole('button', { name: `Close ${month}` }).click();
  const row = page.getByRole('row', { name: new RegExp(month) });
  await expect(row).toContainText('Closed');
  await expect(row).toContainText(`close · ${ADMIN}`);

  await waitForApp(page, info);
  await row.getByRole('button', { name: `Reopen ${month}` }).click();
  // The reason is required: the browser asks for it, or the server refuses without one.
  await expect(page.getByRole('row', { name: new RegExp(month) })).toContainText('Closed');
  await waitForApp(page, info);
  await page.getByLabel(`Reason for reopening ${month}`).fill('late credit note from the agency');
  await page.getByRole('button', { name: `Reopen ${month}` }).click();
  await expect(page.getByRole('row', { name: new RegExp(month) })).toContainText('Open');
  await expect(page.getByRole('row', { name: new RegExp(month) })).toContainText('“late credit note from the agency”');
});

test('an entry shows who changed it', async ({ page }, info) => {
  await signInAs(page, info, MARKETER);
  await open(page, info, '/costs/3');
  const amount = page.getByLabel('Amount', { exact: true });
  const before = await amount.inputValue();
  await amount.fill(before.endsWith('0') ? before.slice(0, -1) + '1' : before.slice(0, -1) + '0');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/costs$/);
  await open(page, info, '/costs/3');
  const history = page.getByRole('region', { name: 'History' });
  await expect(history).toContainText('create');
  await expect(history).toContainText(`edit · ${MARKETER}`);
});
