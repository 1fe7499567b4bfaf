import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const TOKEN = 'browser-test-admin-token-01';
const ARTIFACTS = 'test/artifacts';

describe('audit page in headless Chromium', () => {
  let env: TestEnv;
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    env = await startTestEnv({ env: { ADMIN_TOKEN: TOKEN, MAX_ATTEMPTS: '1' } });
  });
  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  it('refuses the page without the token, with a sign-in form', async () => {
    const page = await browser.newPage();
    const response = await page.goto(`${env.app.url}/`);
    expect(response?.status()).toBe(401);
    await expect(page.locator('input[name=token]').count()).resolves.toBe(1);
    expect(await page.content()).not.toContain('Deliveries</h1>');
    await page.close();
  });

  it('opens with the token, filters to failed deliveries, retries a dead one and shows it delivered', async () => {
    const [ok] = await env.sandbox.signReports(1);
    await env.waitForDelivery(ok!.reportId, 'delivered');
    await env.fhir.faults.down();
    const [broken] = await env.sandbox.signReports(1);
    await env.waitForDelivery(broken!.reportId, 'dead');
    await env.fhir.faults.up();

    const page = await browser.newPage();
    await page.goto(`${env.app.url}/?token=${TOKEN}`);
    expect(new URL(page.url()).search).toBe(''); // the token was traded for a cookie and left the address bar
    await expect(page.locator('h1').textContent()).resolves.toBe('Deliveries');
    await page.getByRole('link', { name: /Needs attention \(1\)/ }).click();
    const rows = page.locator('tbody tr[data-report]'); // one row per delivery under its study's heading
    await expect(rows.count()).resolves.toBe(1);
    await expect(rows.first().textContent()).resolves.toContain('fhir_unavailable');

    await page.getByRole('link', { name: broken!.reportId }).click();
    await expect(page.locator('h1').textContent()).resolves.toContain('dead');
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.waitForURL(/done=requeued/);
    // The detail page refreshes itself (meta refresh, no script) until the worker is done.
    await page.locator('h1 .state-delivered').waitFor({ timeout: 20_000 });
    await expect(page.locator('body').textContent()).resolves.toMatch(/DiagnosticReport\/[^/\s]+\/_history\/\d/);
    await page.screenshot({ path: `${ARTIFACTS}/audit-page-after-retry.png`, fullPage: true });
    expect(env.delivery(broken!.reportId)?.state).toBe('delivered');
    await page.close();
  });
});
