import { expect, test } from '@playwright/test';
import { ADMIN, BUILDER, MARKETER, VIEWER, navLinks, open, signInAs } from './helpers';

test('a viewer sees the reading sections only and is refused the admin pages', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await expect(navLinks(page)).toHaveText(['Costs', 'PoC reports', 'Pipelines', 'Models']);
  await navLinks(page).filter({ hasText: 'PoC reports' }).click();
  await expect(page).toHaveURL(/\/poc$/);
  await expect(page.getByRole('heading', { level: 1, name: /Redshift vs Snowflake/ })).toBeVisible();
  for (const path of ['/admin/users', '/partners']) {
    await open(page, info, path);
    await expect(page.getByRole('heading', { name: 'Not available for your role' })).toBeVisible();
    await expect(page.getByRole('table')).toHaveCount(0);
  }
});

test('a marketer sees costs, reports and pipelines, not partners or admin', async ({ page }, info) => {
  await signInAs(page, info, MARKETER);
  await expect(navLinks(page)).toHaveText(['Costs', 'PoC reports', 'Pipelines', 'Models']);
  await navLinks(page).filter({ hasText: 'Costs' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Costs' })).toBeVisible();
  await expect(navLinks(page).filter({ hasText: 'Costs' })).toHaveAttribute('aria-current', 'page');
});

test('a pipeline builder sees the reading sections and pipelines, and may not enter costs', async ({ page }, info) => {
  await signInAs(page, info, BUILDER);
  await expect(navLinks(page)).toHaveText(['Costs', 'PoC reports', 'Pipelines', 'Models', 'Ingestion lab']);
  await open(page, info, '/costs/new');
  await expect(page.getByRole('heading', { name: 'Not available for your role' })).toBeVisible();
  await open(page, info, '/pipelines/new');
  await expect(page.getByRole('heading', { level: 1, name: 'New pipeline' })).toBeVisible();
});

test('an admin sees every section', async ({ page }, info) => {
  await signInAs(page, info, ADMIN);
  await expect(navLinks(page)).toHaveText(['Costs', 'Partners & keys', 'PoC reports', 'Pipelines', 'Models', 'Ingestion lab', 'Admin']);
  await navLinks(page).filter({ hasText: 'Partners & keys' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Partners & keys' })).toBeVisible();
});

test('the interface switches to Korean and back', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await page.getByRole('button', { name: '한국어' }).click();
  await expect(page.getByRole('heading', { level: 1, name: '환영합니다' })).toBeVisible();
  await expect(navLinks(page, '주 메뉴')).toHaveText(['비용', 'PoC 보고서', '파이프라인', '모델']);
  await expect(page.locator('html')).toHaveAttribute('lang', 'ko');
  await page.getByRole('button', { name: 'English' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Welcome' })).toBeVisible();
});

test('the sign-in page follows the browser language', async ({ browser }, info) => {
  const context = await browser.newContext({ locale: 'ko-KR', javaScriptEnabled: info.project.name === 'js' });
  const page = await context.newPage();
  await page.goto('/login');
  await expect(page.getByRole('heading', { level: 1, name: 'MCMS 로그인' })).toBeVisible();
  await expect(page.getByLabel('이메일')).toBeVisible();
  await context.close();
});
