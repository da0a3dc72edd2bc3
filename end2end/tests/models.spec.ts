import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, BUILDER, VIEWER, hydrated, open, signInAs, waitForApp } from './helpers';

const models = join(__dirname, '..', '..', 'models');

test('anyone signed in reads the registry and tries a model; a mistake is named by its feature', async ({ page }, info) => {
  await signInAs(page, info, VIEWER);
  await open(page, info, '/models');
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(4);
  await expect(page.getByRole('row', { name: /churn/ })).toContainText('auc 0.9195');
  await expect(page.getByRole('heading', { name: 'Upload a version' })).toHaveCount(0);
  await page.getByRole('link', { name: 'churn' }).click();
  await waitForApp(page, info);
  await expect(page.getByRole('heading', { level: 1, name: 'churn' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Promote to production' })).toHaveCount(0);

  // The form starts from the signature's example: scikit-learn said 0.3127 for it.
  await page.getByRole('button', { name: 'Predict' }).click();
  await waitForApp(page, info);
  const answer = page.getByRole('status').filter({ hasText: 'version 1' });
  await expect(answer).toContainText('no');
  await expect(answer).toContainText('yes: 0.3127');

  await page.getByLabel('level', { exact: true }).fill('0');
  await page.getByLabel('minutes_7d').fill('NaN');
  if (hydrated(info)) {
    // Checked as typed, by the API's rule, before anything is sent.
    await expect(page.getByLabel('level', { exact: true })).toHaveAttribute('aria-invalid', 'true');
    await expect(page.locator('#try-minutes_7d-problem')).toHaveText('must be a finite number, got NaN');
    await page.getByLabel('level', { exact: true }).fill('41');
    await expect(page.locator('#try-level-problem')).toHaveText('');
    await page.getByLabel('level', { exact: true }).fill('0');
    await expect(page.locator('#try-level-problem')).toHaveText('0 is below the minimum 1');
  }
  await page.getByRole('button', { name: 'Predict' }).click();
  await waitForApp(page, info);
  const problems = page.getByRole('alert').locator('li');
  await expect(problems).toHaveText(['minutes_7d: must be a finite number, got NaN', 'level: 0 is below the minimum 1']);
});

test('a builder uploads a version, is refused a bad one with the reason, promotes and rolls back', async ({ page }, info) => {
  const dir = mkdtempSync(join(tmpdir(), 'mcms-model-'));
  const signature = readFileSync(join(models, 'segment', 'signature.yaml'), 'utf8')
    .replace('metrics:\n', `metrics:\n  e2e_run: ${Date.now()}\n`);
  writeFileSync(join(dir, 'signature.yaml'), signature);
  writeFileSync(join(dir, 'not-a-model.onnx'), 'model,score\n1,2\n');

  await signInAs(page, info, BUILDER);
  await open(page, info, '/models/segment');
  await page.getByLabel('ONNX file').setInputFiles(join(dir, 'not-a-model.onnx'));
  await page.getByLabel('Signature (YAML or JSON)').setInputFiles(join(dir, 'signature.yaml'));
  await page.getByRole('button', { name: 'Upload' }).click();
  await waitForApp(page, info);
  await expect(page.getByRole('alert').filter({ hasText: 'refused' })).toContainText('not an ONNX model');

  await page.getByLabel('ONNX file').setInputFiles(join(models, 'segment', 'model.onnx'));
  await page.getByLabel('Signature (YAML or JSON)').setInputFiles(join(dir, 'signature.yaml'));
  const note = `from the browser (${info.project.name})`;
  await page.getByLabel('Note').fill(note);
  await page.getByRole('button', { name: 'Upload' }).click();
  await waitForApp(page, info);
  const uploaded = page.getByRole('alert').filter({ hasText: 'Uploaded: version' });
  await expect(uploaded).toBeVisible();
  const version = (await uploaded.textContent())!.match(/version (\d+)/)![1];

  const row = page.getByRole('row').filter({ hasText: note });
  await expect(row).toContainText('Staging');
  const promote = row.locator('details', { hasText: 'Promote to production' });
  await promote.locator('summary').click();
  await promote.getByLabel('Reason').fill('e2e promotion');
  await promote.getByLabel(`Yes: Promote to production (version ${version})`).check();
  await promote.getByRole('button', { name: 'Promote to production' }).click();
  await waitForApp(page, info);
  await expect(page.getByRole('alert').filter({ hasText: 'Done' })).toBeVisible();
  await expect(page.getByText(`Production: version ${version}`)).toBeVisible();

  const rollback = page.locator('details', { hasText: 'Roll back' });
  await rollback.locator('summary').click();
  await rollback.getByLabel(/Yes: Roll back/).check();
  await rollback.getByRole('button', { name: 'Roll back' }).click();
  await waitForApp(page, info);
  await expect(page.getByRole('alert').filter({ hasText: 'Done' })).toBeVisible();
  await expect(page.getByRole('row').filter({ hasText: note })).toContainText('Archived');
});

test('predictions over the API show on the model page: requests, latency, drift; kept only when the rate is set', async ({ page }, info) => {
  test.skip(!hydrated(info), 'a new key is shown once, by JavaScript');
  await signInAs(page, info, ADMIN);
  await open(page, info, '/partners');
  await page.getByRole('link', { name: 'Kakao Games Channeling' }).click();
  await waitForApp(page, info);
  const issue = page.locator('details', { has: page.locator('summary', { hasText: 'Issue a key' }) });
  await issue.locator('summary').click();
  await issue.getByLabel('What the key is for').fill(`e2e segment scoring ${Date.now()}`);
  await issue.getByLabel('models:predict:segment').check();
  await issue.getByRole('button', { name: 'Issue a key' }).click();
  const key = await page.getByRole('alert').filter({ hasText: 'New key' }).getByLabel('Key').inputValue();
  const headers = { Authorization: `Bearer ${key}` };
  const player = { days_since_install: 244, days_since_last_session: 4, sessions_7d: 2, minutes_7d: 20.9, level: 41,
    purchases_28d: 0, spend_28d_krw: 0, platform: 'android' };
  const predict = (instances) => page.request.post('/api/v1/models/segment/predict', { headers, data: { instances } });
  expect((await predict([player, player, player])).status()).toBe(200);
  expect((await predict([{ ...player, level: 0 }])).status()).toBe(400);

  // Kept predictions: off until set (the form works without JavaScript too).
  await open(page, info, '/models/segment');
  const sampling = page.locator('section', { has: page.getByRole('heading', { name: 'Kept predictions' }) });
  await expect(sampling).toContainText('0% of prediction requests are kept.');
  await sampling.getByLabel('Requests kept (%)').fill('100');
  await sampling.getByLabel('Yes: change the rate').check();
  await sampling.getByRole('button', { name: 'Set the rate' }).click();
  await expect(sampling.getByRole('alert')).toContainText('Done');
  await page.waitForTimeout(1_200); // every server reads the rate within a second
  expect((await predict([{ ...player, platform: 'ios' }])).status()).toBe(200);

  await page.waitForTimeout(2_500); // counts are written every 2 s
  await open(page, info, '/models/segment');
  const monitoring = page.locator('section', { has: page.getByRole('heading', { name: 'Monitoring' }) });
  await expect(monitoring).toContainText(/\d+ requests in 14 days · latency p50 ≤ [\d.]+ ms, p95 ≤ [\d.]+ ms/);
  await expect(monitoring.getByRole('img', { name: /Requests per day \(UTC\)/ })).toBeVisible();
  const drift = monitoring.getByRole('img', { name: /Score distribution today, UTC \(\d+ predictions\) against training/ });
  for (const segment of ['casual', 'engaged', 'spender', 'lapsing']) await expect(drift).toContainText(segment);
  await expect(page.getByRole('row').filter({ hasText: '"platform":"ios"' }).first()).toContainText('"label":');
});
