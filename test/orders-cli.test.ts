import type { ImagingStudy } from '@medplum/fhirtypes';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MRN_SYSTEM } from './fixtures/order-fixtures.ts';
import { runCli } from './support/run-cli.ts';
import { seedFhirOrders } from './support/seed-fhir-orders.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

describe('avara-fhir-sync orders', () => {
  let env: TestEnv;
  beforeEach(async () => {
    env = await startTestEnv({ env: { MRN_SYSTEM } });
  });
  afterEach(() => env.stop());

  const cliEnv = () => env.serveEnv({ MRN_SYSTEM, STUDY_TIME_ZONE: 'UTC', LOG_LEVEL: 'silent' });

  it('syncs one order now, shows counts and errors, and retries a dead one', async () => {
    const [good, bad] = await seedFhirOrders(env.fhir.baseUrl, [41, 42], (n, r) => {
      if (n === 42) (r.is as ImagingStudy).identifier = [];
    });
    const synced = await runCli(['orders', 'sync', good!.imagingStudyId, '--reason', 'ward asked for it now'], cliEnv());
    expect(synced.stdout).toMatch(new RegExp(`ImagingStudy/${good!.imagingStudyId}: synced \\(Avara study stu_[0-9a-f]{32}\\)`));
    expect(synced.code).toBe(0);
    const failed = await runCli(['orders', 'sync', bad!.imagingStudyId], cliEnv());
    expect(failed.stdout).toContain('dead (order_no_study_uid: ImagingStudy has no urn:dicom:uid identifier)');
    expect(failed.code).toBe(1);
    const status = JSON.parse((await runCli(['orders', 'status', '--json'], cliEnv())).stdout) as { counts: Record<string, number>; recentErrors: { code: string }[] };
    expect(status.counts).toMatchObject({ synced: 1, dead: 1 });
    expect(status.recentErrors.map((e) => e.code)).toEqual(['order_no_study_uid']);
    expect((await runCli(['orders', 'retry', '--reason', 'UID fixed in the EHR'], cliEnv())).stdout).toBe('1 orders requeued\n');
    expect(env.sandbox.requestCounts()['POST /v1/autoScribe/studies']).toBe(1);
    // Who asked, and why: the OS user and --reason in the audit rows of both actions.
    const detailOf = async (event: string, order: string) => (await env.app.store.audit.ofOrder(order)).filter((e) => e.event === event).at(-1)?.detail;
    expect(await detailOf('order_enqueued', good!.imagingStudyId)).toMatchObject({ source: 'cli', by: 'cli', operator: expect.stringMatching(/^cli:\S+$/), reason: 'ward asked for it now' });
    expect(await detailOf('order_retried', bad!.imagingStudyId)).toMatchObject({ by: 'cli', operator: expect.stringMatching(/^cli:\S+$/), reason: 'UID fixed in the EHR' });
  });
});
