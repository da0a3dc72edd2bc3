import { expect, test } from '@playwright/test';
import { ADMIN, hydrated, open, signIn, signInAs, waitForApp } from './helpers';

test('an admin creates a user, changes the role and deactivates them, which ends their session', async ({ page, browser }, info) => {
  const email = `new.${info.project.name}@mcms.example`;
  const password = 'a fresh password 42';
  await signInAs(page, info, ADMIN);
  await open(page, info, '/admin/users');

  const form = page.getByRole('region', { name: 'Create a user' });
  await form.getByLabel('Email').fill('not-an-email');
  await form.getByLabel('Name').fill('Yuna Jung');
  await form.getByLabel('Initial password').fill(password);
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(form.getByRole('alert')).toHaveText('This is not an email address (expected name@example.com).');

  await waitForApp(page, info);
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('Name').fill('Yuna Jung');
  await form.getByLabel('Role').selectOption('viewer');
  await form.getByLabel('Initial password').fill(password);
  await form.getByRole('button', { name: 'Create user' }).click();
  const row = page.getByRole('row').filter({ hasText: email });
  await expect(row).toBeVisible();
  await expect(row).toContainText('Viewer');
  // A plain form: the page comes back with the list read again and the form's outcome.
  await expect(form.getByRole('alert')).toHaveText('User created.');

  // The new user signs in elsewhere.
  const other = await browser.newContext({ javaScriptEnabled: hydrated(info) });
  const theirs = await other.newPage();
  await theirs.goto('/login');
  await waitForApp(theirs, info);
  await signIn(theirs, email, password);
  await expect(theirs.getByRole('button', { name: 'Sign out' })).toBeVisible();

  await waitForApp(page, info);
  await row.getByLabel(`Role for ${email}`).selectOption('marketer');
  await row.getByRole('button', { name: 'Change role' }).click();
  await expect(page.getByRole('row').filter({ hasText: email }).getByLabel(`Role for ${email}`)).toHaveValue('marketer');

  await waitForApp(page, info);
  await page.getByRole('button', { name: `Deactivate ${email}` }).click();
  await expect(page.getByRole('row').filter({ hasText: email })).toContainText('Deactivated');
  await expect(page.getByRole('button', { name: `Reactivate ${email}` })).toBeVisible();

  // Their session is over: the next page load sends them to sign in, saying why.
  await theirs.goto('/costs');
  await expect(theirs).toHaveURL(/\/login\?next=\/costs&session=ended$/);
  await expect(theirs.getByRole('status')).toHaveText('Your session has ended. Please sign in again.');
  await other.close();
});

test('an admin cannot change their own account', async ({ page }, info) => {
  await signInAs(page, info, ADMIN);
  await open(page, info, '/admin/users');
  await expect(page.getByRole('button', { name: `Deactivate ${ADMIN}` })).toBeDisabled();
  await expect(page.getByLabel(`Role for ${ADMIN}`)).toBeDisabled();
});
