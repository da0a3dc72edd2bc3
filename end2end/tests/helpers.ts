import { expect, Page, TestInfo } from '@playwright/test';

export const DEMO_PASSWORD = 'mcms-demo-2026';
export const ADMIN = 'admin@mcms.example';
export const MARKETER = 'marketer@mcms.example';
export const VIEWER = 'viewer@mcms.example';
export const BUILDER = 'data@mcms.example';

export const hydrated = (info: TestInfo) => info.project.name === 'js';

/** With JavaScript, waits until the page is hydrated; without, the page is ready as loaded. */
export async function waitForApp(page: Page, info: TestInfo) {
  if (hydrated(info)) {
    await page.locator('body[data-hydrated]').waitFor({ state: 'attached', timeout: 15_000 });
  }
}

export async function open(page: Page, info: TestInfo, path: string) {
  await page.goto(path);
  await waitForApp(page, info);
}

export async function signIn(page: Page, email: string, password = DEMO_PASSWORD) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function signInAs(page: Page, info: TestInfo, email: string) {
  await open(page, info, '/login');
  await signIn(page, email);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await waitForApp(page, info);
}

export function navLinks(page: Page, name = 'Main') {
  return page.getByRole('navigation', { name }).getByRole('link');
}

/** `YYYY-MM`, n months before the current month on the company's clock (UTC+09:00, like the server). */
export function monthsAgo(n: number) {
  const d = new Date(Date.now() + 9 * 3600 * 1000);
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - n);
  return d.toISOString().slice(0, 7);
}
