import { Browser, expect, Page, test, TestInfo } from '@playwright/test';
import { MARKETER, VIEWER, hydrated, monthsAgo, open, signIn, signInAs, waitForApp } from './helpers';

const field = (page: Page, label: string) => page.getByLabel(label, { exact: true });

async function fillEntry(page: Page, country: string, amount: string) {
  await field(page, 'Game').selectOption('STARFALL');
  await field(page, 'Channel').selectOption('GOOGLE_ADS');
  await field(page, 'Campaign').selectOption('SF_LAUNCH_KR');
  await field(page, 'Country').selectOption(country);
  await field(page, 'Vendor').selectOption('SEOUL_PERF');
  await field(page, 'Cost type').selectOption('FLAT');
  await field(page, 'Currency').selectOption('KRW');
  await field(page, 'Amount').fill(amount);
}

test('a marketer is told about an invalid amount, fixes it and saves', async ({ page }, info) => {
  const country = hydrated(info) ? 'KR' : 'JP';
  await signInAs(page, info, MARKETER);
  await open(page, info, '/costs/new');
  await fillEntry(page, country, '1200.5');
  const amountError = page.locator('#cost-amount-msg').getByText('KRW takes no decimals, got 1200.5.');
  if (hydrated(info)) {
    // The rule engine runs in the browser: the error shows before anything is sent.
    await expect(amountError).toBeVisible();
    await expect(field(page, 'Amount')).toHaveAttribute('aria-invalid', 'true');
  }
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(amountError).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('The entry was not saved');
  // Nothing typed was lost.
  await expect(field(page, 'Amount')).toHaveValue('1200.5');
  await expect(field(page, 'Country')).toHaveValue(country);
  await expect(field(page, 'Vendor')).toHaveValue('SEOUL_PERF');

  await waitForApp(page, info);
  await field(page, 'Amount').fill('1,200');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page).toHaveURL(/\/costs$/);
  const row = page.getByRole('row').filter({ hasText: 'SF_LAUNCH_KR' }).filter({ hasText: 'FLAT' }).filter({ hasText: country });
  await expect(row).toContainText('1,200 KRW');
});

test('a closed month refuses the entry with the reason', async ({ page }, info) => {
  await signInAs(page, info, MARKETER);
  await open(page, info, '/costs/new');
  await fillEntry(page, 'KR', '50,000');
  // The demo closes the month before last.
  const month = monthsAgo(2);
  await field(page, 'Date').fill(`${month}-15`);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#cost-date-msg')).toContainText(`${month} is closed; ask an administrator to reopen it.`);
  await expect(field(page, 'Date')).toHaveValue(`${month}-15`);
});

async function marketerPage(browser: Browser, info: TestInfo, email: string) {
  const context = await browser.newContext({ javaScriptEnabled: hydrated(info) });
  const page = await context.newPage();
  await page.goto('/login');
  await waitForApp(page, info);
  await signIn(page, email);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  return { context, page };
}

test('two people editing one entry: the second is told, not overwritten', async ({ browser }, info) => {
  const first = await marketerPage(browser, info, MARKETER);
  const second = await marketerPage(browser, info, 'growth@mcms.example');
  // Entry 1 is the oldest demo entry (1,264.50 USD for 610 installs), in an open month.
  for (const p of [first.page, second.page]) await open(p, info, '/costs/1');
  const amount1 = info.project.name === 'js' ? '1,300.00' : '1,350.00';
  await field(first.page, 'Amount').fill(amount1);
  await first.page.getByRole('button', { name: 'Save' }).click();
  await expect(first.page).toHaveURL(/\/costs$/);

  await field(second.page, 'Amount').fill('1,400.00');
  await second.page.getByRole('button', { name: 'Save' }).click();
  await expect(second.page.getByRole('alert')).toContainText('Someone saved a newer version of this entry');
  await expect(second.page.getByText('Changed meanwhile: amount')).toBeVisible();
  await expect(field(second.page, 'Amount')).toHaveValue('1,400.00');

  await open(first.page, info, '/costs/1');
  await expect(field(first.page, 'Amount')).toHaveValue(amount1);
  await first.context.close();
  await second.context.close();
});

test('a viewer can read costs but change nothing', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/costs');
  await expect(page.getByRole('heading', { level: 1, name: 'Costs' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'New cost' })).toHaveCount(0);
  await expect(page.getByRole('row')).not.toHaveCount(0);
  await open(page, info, '/costs/2');
  await expect(page.getByRole('status')).toHaveText('You can read this entry; your role cannot change it.');
  await expect(field(page, 'Amount')).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Save' })).toHaveCount(0);
  await open(page, info, '/costs/new');
  await expect(page.getByRole('heading', { name: 'Not available for your role' })).toBeVisible();
});

test('the list filters by month and country and totals what it shows', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/costs?country=JP');
  const rows = page.locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  for (const text of await rows.locator('td:nth-child(4)').allTextContents()) expect(text).toBe('JP');
  await expect(page.locator('tfoot')).toContainText('Total');
  await field(page, 'Country').selectOption('KR');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/country=KR/);
  for (const text of await rows.locator('td:nth-child(4)').allTextContents()) expect(text).toBe('KR');
});

test('the list sorts by amount and keeps the order on the next page', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/costs');
  await field(page, 'Sort by').selectOption('largest');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/order=largest/);
  const amounts = async () =>
    (await page.locator('tbody tr td:nth-child(9)').allTextContents()).map((t) => Number(t.replace(/[^0-9-]/g, '')));
  const first = await amounts();
  expect(first.length).toBeGreaterThan(1);
  expect(first).toEqual([...first].sort((a, b) => b - a));
  await page.getByRole('link', { name: 'Next page' }).click();
  await expect(page).toHaveURL(/order=largest&after=/);
  // Hydrated, the next page renders after the URL changes: wait for its rows, then compare.
  await expect
    .poll(async () => {
      const second = await amounts();
      return second.length > 0 && Math.max(...second) <= Math.min(...first);
    })
    .toBe(true);
});
