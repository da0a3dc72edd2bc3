import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The test command builds the site and passes the binary and site folder in; these defaults
// match a plain `cargo leptos build` in this checkout. MCMS_SITE_ROOT=embedded serves the copy
// of the site inside the binary (the release build carries one).
const bin = process.env.MCMS_BIN ?? join(__dirname, '..', 'target', 'debug', 'mcms');
const siteRoot = process.env.MCMS_SITE_ROOT ?? join(__dirname, '..', 'target', 'site');
const siteFlag = siteRoot === 'embedded' ? '' : ` --site-root "${siteRoot}"`;
const port = Number(process.env.MCMS_E2E_PORT ?? 3300);
const dataDir = mkdtempSync(join(tmpdir(), 'mcms-e2e-'));

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  timeout: 30_000,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    // Chromium from the operating system: no browser download.
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    },
    locale: 'en-US',
    trace: 'off',
  },
  projects: [
    { name: 'js', use: { javaScriptEnabled: true } },
    { name: 'nojs', use: { javaScriptEnabled: false } },
  ],
  webServer: {
    command: `"${bin}" serve --demo --addr 127.0.0.1:${port} --data-dir "${dataDir}"${siteFlag}`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    // MCMS_E2E_LOG=info shows every request the server answered (in the test output).
    env: { MCMS_LOG: process.env.MCMS_E2E_LOG ?? 'warn' },
    stdout: process.env.MCMS_E2E_LOG ? 'pipe' : 'ignore',
  },
});
