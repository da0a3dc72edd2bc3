import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILDER, VIEWER, open, signInAs, waitForApp } from './helpers';

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
