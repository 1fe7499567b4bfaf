import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { sqliteOf } from './support/sqlite-of.ts';

const TOKEN = 'browser-search-admin-token-01';
const ARTIFACTS = 'test/artifacts';
const WIDTH = 1280;

// An analyst's questions on the audit page, in a real browser at a laptop's width: find a study
// by each key, see its original and addenda together, how many attempts are left, and what to do
// about a dead delivery.
describe('audit page search, grouping and hints in headless Chromium', () => {
  let env: TestEnv;
  let browser: Browser;
  let page: Page;
  let original: SignedRef;
  let addendum: SignedRef;
  let other: SignedRef;
  let dead: string;
  let mrn: string;
  const accession = 'ACC-SEARCH-0042';

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    env = await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, ADMIN_TOKEN: TOKEN, MAX_ATTEMPTS: '2' } });
    // The accession is set before the first attempt reads the study, so it is recorded.
    original = (await env.sandbox.signReports(1, { sendWebhooks: false }))[0]!;
    const study = env.sandbox.getStudyState(original.studyId);
    study.metadata = { ...study.metadata, accessionNumber: accession };
    mrn = study.reportMetadata.mrn!;
    await env.sendReportDelivered(original);
    await env.waitForDelivery(original.reportId, 'delivered');
    addendum = (await env.sandbox.signReports(1, { addendum: true, studyIds: [original.studyId] }))[0]!;
    other = (await env.sandbox.signReports(1))[0]!;
    await env.waitForDelivery(addendum.reportId, 'delivered');
    await env.waitForDelivery(other.reportId, 'delivered');
    dead = await env.deadLetterOneReport();

    page = await browser.newPage({ viewport: { width: WIDTH, height: 800 } });
    await page.goto(`${env.app.url}/?token=${TOKEN}`);
  });
  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  async function search(by: string, value: string): Promise<void> {
    await page.goto(`${env.app.url}/`);
    await page.getByLabel('Find by').selectOption(by);
    await page.getByLabel('Value').fill(value);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\?by=/);
  }
  const studiesShown = () => page.locator('tbody.study').evaluateAll((bodies) => bodies.map((b) => b.getAttribute('data-study')));
  const reportsShown = () => page.locator('tbody.study tr[data-report]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-report')));
  const noHorizontalScroll = () => page.evaluate(() => document.documentElement.scrollWidth);

  it('finds a study by a report id, with its original first and the addendum marked', async () => {
    await search('report', addendum.reportId);
    expect(await studiesShown()).toEqual([original.studyId]);
    expect(await reportsShown()).toEqual([original.reportId, addendum.reportId]);
    const rows = page.locator('tbody.study tr[data-report]');
    await expect(rows.nth(0).locator('.role').textContent()).resolves.toBe('original');
    await expect(rows.nth(1).locator('.role').textContent()).resolves.toBe('addendum');
    await expect(page.locator('tbody.study .study-head').textContent()).resolves.toContain(`Accession ${accession}`);
  });

  it('finds a study by its study id and by its accession', async () => {
    await search('study', other.studyId);
    expect(await studiesShown()).toEqual([other.studyId]);
    await search('accession', accession);
    expect(await studiesShown()).toEqual([original.studyId]);
    await search('accession', 'ACC-NOBODY');
    await expect(page.getByText('No deliveries match.').count()).resolves.toBe(1);
  });

  it('finds a study by MRN through its keyed hash: the MRN is in neither the address, the page nor the database', async () => {
    await search('mrn', mrn);
    expect(await studiesShown()).toEqual([original.studyId]);
    const url = new URL(page.url());
    expect(url.searchParams.get('h')).toMatch(/^[0-9a-f]{64}$/);
    expect(page.url()).not.toContain(mrn);
    const body = (await page.locator('body').textContent())!;
    expect(body).not.toContain(mrn);
    expect(body).toContain(`···${mrn.slice(-4)}`); // the masked label only
    await expect(page.getByLabel('Value').inputValue()).resolves.toBe('');
    const files = [sqliteOf(env.app).path, `${sqliteOf(env.app).path}-wal`].filter(existsSync);
    for (const file of files) expect(readFileSync(file).includes(mrn), file).toBe(false);
  });

  it('shows the attempt count out of MAX_ATTEMPTS and a hint for a dead delivery, on the list and the detail', async () => {
    await page.goto(`${env.app.url}/?state=dead`);
    const row = page.locator(`tr[data-report="${dead}"]`);
    await expect(row.locator('.attempts').textContent()).resolves.toBe('attempt 2 of 2');
    await expect(row.locator('.hint').isVisible()).resolves.toBe(true);
    await expect(row.locator('.hint').textContent()).resolves.toMatch(/FHIR server/);
    expect(await noHorizontalScroll()).toBeLessThanOrEqual(WIDTH);
    await page.screenshot({ path: `${ARTIFACTS}/audit-page-dead-with-hint.png`, fullPage: true });

    await page.goto(`${env.app.url}/?by=study&q=${original.studyId}`);
    await expect(page.locator(`tr[data-report="${original.reportId}"] .attempts`).textContent()).resolves.toBe('attempt 1 of 2');

    await page.goto(`${env.app.url}/deliveries/${dead}`);
    await expect(page.locator('dd.hint').isVisible()).resolves.toBe(true);
    await expect(page.locator('body').textContent()).resolves.toContain('attempt 2 of 2');
    expect(await noHorizontalScroll()).toBeLessThanOrEqual(WIDTH);
  });

  it('fits 1280 px with every study on the page', async () => {
    await page.goto(`${env.app.url}/`);
    expect((await studiesShown()).sort()).toEqual([original.studyId, other.studyId, env.delivery(dead)!.studyId].sort());
    expect(await noHorizontalScroll()).toBeLessThanOrEqual(WIDTH);
    await page.screenshot({ path: `${ARTIFACTS}/audit-page-grouped.png`, fullPage: true });
  });

  it('works with the keyboard alone: search by study id, then open a report', async () => {
    await page.goto(`${env.app.url}/`);
    await tabTo(page, 'select[name=by]');
    await page.keyboard.press('s'); // Study id
    await page.keyboard.press('Tab');
    await page.keyboard.type(other.studyId);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\?by=study/);
    expect(await studiesShown()).toEqual([other.studyId]);
    await tabTo(page, `a[href^="/deliveries/${other.reportId}"]`);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/deliveries/${other.reportId}`));
    await expect(page.locator('h1').textContent()).resolves.toContain(other.reportId);
  });
});

/** Presses Tab until the focused element matches `selector` (at most 60 presses). */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((css) => document.activeElement?.matches(css) === true, selector)) return;
  }
  throw new Error(`nothing matching ${selector} got the focus within 60 Tab presses`);
}
