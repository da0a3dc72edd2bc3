import { expect, test } from '@playwright/test';
import { ADMIN, MARKETER, hydrated, open, signInAs } from './helpers';

test('an admin adds a vendor; a marketer sees it but may only add campaigns', async ({ page, browser }, info) => {
  const code = hydrated(info) ? 'E2E_VENDOR_JS' : 'E2E_VENDOR_NOJS';
  await signInAs(page, info, ADMIN);
  await open(page, info, '/costs/master');
  const vendors = page.getByRole('region', { name: 'Vendor' });
  await vendors.getByLabel('Code').fill(code.toLowerCase());
  await vendors.getByLabel('Name').fill('End-to-end Media');
  await vendors.getByRole('button', { name: 'Add or change Vendor' }).click();
  await expect(page.getByRole('region', { name: 'Vendor' }).getByRole('row', { name: new RegExp(code) })).toContainText('End-to-end Media');

  const context = await browser.newContext({ javaScriptEnabled: hydrated(info) });
  const marketer = await context.newPage();
  await signInAs(marketer, info, MARKETER);
  await open(marketer, info, '/costs/master');
  await expect(marketer.getByRole('region', { name: 'Vendor' }).getByRole('row', { name: new RegExp(code) })).toBeVisible();
  await expect(marketer.getByRole('button', { name: 'Add or change Vendor' })).toHaveCount(0);
  await expect(marketer.getByRole('button', { name: 'Add or change Campaign' })).toBeVisible();
  await context.close();
});
