import { expect, test } from '@playwright/test';
import { ADMIN, MARKETER, navLinks, open, signIn, signInAs } from './helpers';

test('a wrong password is refused with a clear message and no hint about the account', async ({ page }, info) => {
  // The sign-in page is everyone's first visit: plain HTML that loads no browser code.
  const code: string[] = [];
  page.on('request', (r) => { if (/\.(wasm|js)$/.test(new URL(r.url()).pathname)) code.push(r.url()); });
  await open(page, info, '/login');
  await signIn(page, MARKETER, 'not the password');
  await expect(page.getByRole('alert')).toHaveText('The email or password is not right.');
  // Without browser code the error comes back in the URL, JavaScript or not.
  await expect(page).toHaveURL(/__err=/);
  await open(page, info, '/login');
  await signIn(page, 'nobody@mcms.example', 'not the password');
  await expect(page.getByRole('alert')).toHaveText('The email or password is not right.');
  await open(page, info, '/login');
  await signIn(page, 'former@mcms.example');
  await expect(page.getByRole('alert')).toHaveText('The email or password is not right.');
  expect(code).toEqual([]);
});

test('sign in, see the home page, sign out', async ({ page }, info) => {
  await signInAs(page, info, MARKETER);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome' })).toBeVisible();
  // The name shows; a screen reader hears the sentence around it ("Signed in as …").
  await expect(page.getByText('Minjun Lee', { exact: true })).toBeVisible();
  await expect(page.getByText('Signed in as Minjun Lee')).toBeAttached();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await open(page, info, '/');
  await expect(page).toHaveURL(/\/login\?next=\/$/);
});

test('a visitor is sent to sign in and then to the page they asked for', async ({ page }, info) => {
  await open(page, info, '/admin/users');
  await expect(page).toHaveURL(/\/login\?next=\/admin\/users$/);
  await signIn(page, ADMIN);
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await expect(navLinks(page)).toHaveText(['Costs', 'Partners & keys', 'PoC reports', 'Pipelines', 'Models', 'Ingestion lab', 'Admin']);
});

test('signing in and moving around works from the keyboard alone', async ({ page }, info) => {
  await open(page, info, '/login');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Email')).toBeFocused();
  await page.keyboard.type(MARKETER);
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.keyboard.type('mcms-demo-2026');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome' })).toBeVisible();
  // The first Tab on a signed-in page offers to skip the navigation.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
});
