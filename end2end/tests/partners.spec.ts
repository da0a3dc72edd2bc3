import { expect, test } from '@playwright/test';
import { ADMIN, MARKETER, hydrated, open, signInAs, waitForApp } from './helpers';

const PARTNER = 'Kakao Games Channeling';

async function openPartner(page, info) {
  await open(page, info, '/partners');
  await page.getByRole('link', { name: PARTNER }).click();
  await expect(page.getByRole('heading', { level: 1, name: new RegExp(PARTNER) })).toBeVisible();
  await waitForApp(page, info);
}

test('an admin issues a key, sees it once, and revokes it after confirming', async ({ page }, info) => {
  test.skip(!hydrated(info), 'showing a new key once needs JavaScript');
  await signInAs(page, info, ADMIN);
  await openPartner(page, info);
  const issue = page.locator('details', { has: page.locator('summary', { hasText: 'Issue a key' }) });
  await issue.locator('summary').click();
  await issue.getByLabel('What the key is for').fill('e2e nightly sync');
  await issue.getByLabel('Requests per minute').fill('120');
  await issue.getByRole('button', { name: 'Issue a key' }).click();

  const shown = page.getByRole('alert').filter({ hasText: 'New key' });
  await expect(shown).toContainText('shown only this once');
  const key = await shown.getByLabel('Key').inputValue();
  expect(key).toMatch(/^mcms_[0-9A-Za-z]{36}$/);
  await shown.getByRole('button', { name: 'Copy' }).click();
  await expect(shown.getByRole('status')).toHaveText(/Copied/);

  const row = page.getByRole('row').filter({ hasText: 'e2e nightly sync' });
  await expect(row).toContainText(key.slice(0, 13));
  await expect(row).toContainText('live');

  // Reloaded, the console knows only the prefix.
  await page.reload();
  await waitForApp(page, info);
  await expect(page.getByText(key)).toHaveCount(0);
  await expect(row).toContainText(key.slice(0, 13));

  // The key works against the API, and its usage shows up in the charts (written every 2 s).
  const auth = { Authorization: `Bearer ${key}` };
  for (let i = 0; i < 3; i++) {
    expect((await page.request.get('/api/v1/me', { headers: auth })).status()).toBe(200);
  }
  expect((await page.request.get('/api/v1/me?debug=1', { headers: auth })).status()).toBe(400);
  await page.waitForTimeout(2_500);
  await page.reload();
  await waitForApp(page, info);
  const statuses = page.getByRole('img', { name: /Requests by answer status/ });
  await expect(statuses).toContainText('200');
  await expect(statuses).toContainText('400');
  await expect(page.getByRole('img', { name: /p95 latency per key/ })).toContainText(key.slice(0, 13));
  await expect(row).toContainText('4');

  // Revoking asks for the box to be ticked: the browser will not send the form without it.
  await row.locator('summary', { hasText: 'Revoke' }).click();
  const revoke = row.getByRole('button', { name: /^Revoke mcms_/ });
  await revoke.click();
  await expect(row).toContainText('live');
  await row.getByLabel(/Yes, revoke/).check();
  await revoke.click();
  await expect(page.getByRole('row').filter({ hasText: 'e2e nightly sync' })).toContainText('revoked');
  const history = page.getByRole('region', { name: 'History' });
  await expect(history).toContainText('revoke ' + key.slice(0, 13));
  await expect(history).toContainText('issue ' + key.slice(0, 13));
});

test('the allowlist editor names a bad range as it is typed (JavaScript) or when saved (without)', async ({ page }, info) => {
  await signInAs(page, info, ADMIN);
  await openPartner(page, info);
  const region = page.getByRole('region', { name: 'Allowed addresses' });
  const entries = region.getByLabel('Allowed addresses');
  await entries.fill('203.0.113.0/24\n10.1.2.3/8');
  if (hydrated(info)) {
    await expect(region).toContainText('Row 2: The range has bits set past its prefix.');
    await expect(region).toContainText('the range is 10.0.0.0/8');
  }
  await region.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'bits set past its prefix' })).toBeVisible();

  await page.getByRole('region', { name: 'Allowed addresses' }).getByLabel('Allowed addresses').fill('203.0.113.0/24\n::ffff:198.51.100.7');
  if (hydrated(info)) {
    await expect(page.getByRole('region', { name: 'Allowed addresses' })).not.toContainText('Row 2');
  }
  await page.getByRole('region', { name: 'Allowed addresses' }).getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('region', { name: 'Allowed addresses' }).getByLabel('Allowed addresses')).toHaveValue(
    '203.0.113.0/24\n198.51.100.7/32',
  );
  await page.getByRole('region', { name: 'Allowed addresses' }).getByLabel('Allowed addresses').fill('');
  await page.getByRole('region', { name: 'Allowed addresses' }).getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('region', { name: 'Allowed addresses' }).getByLabel('Allowed addresses')).toHaveValue('');
});

test('usage is drawn on the server and statistics files load whole or not at all', async ({ page }, info) => {
  await signInAs(page, info, ADMIN);
  await openPartner(page, info);
  await expect(page.getByRole('img', { name: /Requests per day \(UTC\)/ })).toBeVisible();

  await open(page, info, '/partners');
  const day = hydrated(info) ? '2026-01-02' : '2026-01-03';
  const header = 'game,channel,day,new_users,daily_active_users,paying_users,revenue,currency';
  await page.getByLabel('Statistics (CSV)').fill(`${header}\nSTARFALL,KAKAO,${day},5,50,2,"10,000",KRW\nSTARFALL,KAKAO,${day},5,50,2,1.5,KRW\n`);
  await page.getByRole('button', { name: 'Check and load' }).click();
  await expect(page.getByText('Row 3: revenue is not an amount in its currency')).toBeVisible();
  await waitForApp(page, info);
  await page.getByLabel('Statistics (CSV)').fill(`${header}\nSTARFALL,KAKAO,${day},5,50,2,"10,000",KRW\n`);
  await page.getByRole('button', { name: 'Check and load' }).click();
  // A plain form with or without JavaScript: the page comes back saying so, the box empty.
  await expect(page.getByRole('alert').filter({ hasText: 'Saved.' })).toBeVisible();
  await expect(page.getByLabel('Statistics (CSV)')).toHaveValue('');
  await expect(page.getByText(/^Row \d+:/)).toHaveCount(0);
});

test('a marketer cannot open the key console', async ({ page }, info) => {
  await signInAs(page, info, MARKETER);
  await open(page, info, '/partners');
  await expect(page.getByRole('link', { name: PARTNER })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Check and load' })).toHaveCount(0);
});

test('without JavaScript a key is not issued, and the page says why', async ({ page }, info) => {
  test.skip(hydrated(info), 'the page without JavaScript');
  await signInAs(page, info, ADMIN);
  await openPartner(page, info);
  const issue = page.locator('details', { has: page.locator('summary', { hasText: 'Issue a key' }) });
  await issue.locator('summary').click();
  // The new key would be shown only in the answer, which a plain form post cannot show.
  await expect(issue.getByRole('button', { name: 'Issue a key' })).toBeDisabled();
  await expect(issue.getByText('Showing a new key once needs JavaScript.')).toBeVisible();
});
