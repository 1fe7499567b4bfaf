import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore, type PostgresStore } from '../src/store/pg/pg-store.ts';
import { createTestDatabase, type TestDatabase } from './support/pg-test-database.ts';
import { runCli } from './support/run-cli.ts';
import { freePort, startServeChild, type ServeChild } from './support/serve-child.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';
import { fetchPdfLink, reportDeliveredBody, signWebhook } from './support/test-webhooks.ts';
import { waitFor } from './support/wait-for.ts';

// `serve` as a real child process on PostgreSQL (DATABASE_URL), against the Avara sandbox and the
// FHIR stand-in: one signed report delivered once; then two replicas on one database given the
// same webhook at once.

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

async function setUp(): Promise<{ standIns: StandIns; database: TestDatabase; store: () => Promise<PostgresStore>; ports: number[] }> {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const ports = [await freePort(), await freePort()];
  const standIns = await startStandIns({ dirPrefix: 'afs-pg-serve-', sandbox: { seed: 7, webhookUrl: `http://127.0.0.1:${ports[0]}/webhooks/avara` } });
  cleanups.push(() => standIns.stop());
  let reader: PostgresStore | undefined;
  const store = async () => {
    if (!reader) {
      reader = await openPostgresStore({ databaseUrl: database.url, migrate: false });
      const opened = reader;
      cleanups.push(() => opened.close());
    }
    return reader;
  };
  return { standIns, database, store, ports };
}

async function startServe(standIns: StandIns, databaseUrl: string, port: number, options: { entry?: string[]; env?: Record<string, string> } = {}): Promise<ServeChild> {
  const env = standIns.serveEnv({
    PATH: process.env.PATH ?? '',
    DATABASE_URL: databaseUrl,
    // Ignored when DATABASE_URL is set: nothing may be created here.
    SQLITE_PATH: join(standIns.dir, 'must-not-exist.db'),
    POLL_INTERVAL_SECONDS: '0',
    RETRY_BASE_SECONDS: '0.05',
    RETRY_MAX_SECONDS: '0.5',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const serve = await startServeChild(env, port, options.entry);
  cleanups.push(() => serve.stop());
  return serve;
}

async function fhirCount(standIns: StandIns, resourceType: string): Promise<number> {
  const response = await fetch(`${standIns.fhir.baseUrl}/${resourceType}?_count=1000`);
  return ((await response.json()) as { entry?: unknown[] }).entry?.length ?? 0;
}

describe('serve on PostgreSQL (DATABASE_URL)', () => {
  it('delivers a signed report once, and the CLI reads the same database', async () => {
    const { standIns, database, store, ports } = await setUp();
    const serve = await startServe(standIns, database.url, ports[0]!);
    const [signed] = await standIns.sandbox.signReports(1);
    const delivered = await waitFor('the report delivered', async () => (await (await store()).deliveries.get(signed!.reportId))?.state === 'delivered', 60_000);
    expect(delivered).toBe(true);
    expect(await fhirCount(standIns, 'DiagnosticReport')).toBe(1);
    const trail = (await (await store()).audit.ofReport(signed!.reportId)).map((e) => e.event);
    expect(trail.filter((event) => event === 'delivered')).toHaveLength(1);
    expect(existsSync(join(standIns.dir, 'must-not-exist.db'))).toBe(false);
    await serve.stop();
    expect(serve.child.exitCode).toBe(0);
    const env = { DATABASE_URL: database.url, SQLITE_PATH: join(standIns.dir, 'must-not-exist.db') };
    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code, verify.stderr).toBe(0);
    const status = await runCli(['status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/delivered\D+1\b/);
    expect(existsSync(join(standIns.dir, 'must-not-exist.db'))).toBe(false);
  }, 120_000);

  it('two replicas on one database given the same webhook at once: one delivery, one set of FHIR resources, the audit chain intact', async () => {
    const { standIns, database, store, ports } = await setUp();
    // One after the other: the second finds the migrations applied under the advisory lock.
    const replicas = await Promise.all(ports.map((port) => startServe(standIns, database.url, port)));
    const [signed] = await standIns.sandbox.signReports(1, { sendWebhooks: false });
    const body = reportDeliveredBody(signed!, await fetchPdfLink(standIns.sandbox, signed!.reportId));
    const headers = { 'content-type': 'application/json', ...signWebhook(standIns.sandbox.webhookKey, body, { id: signed!.webhookId }) };
    const answers = await Promise.all(replicas.map((serve) => fetch(`${serve.url}/webhooks/avara`, { method: 'POST', body, headers })));
    expect(answers.map((answer) => answer.status < 300)).toEqual([true, true]);
    await waitFor('the report delivered', async () => (await (await store()).deliveries.get(signed!.reportId))?.state === 'delivered', 60_000);
    // Give the other replica time to do anything it wrongly would (a second claim, a second write).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const reader = await store();
    expect(await reader.intake.count()).toBe(1);
    const events = (await reader.audit.ofReport(signed!.reportId)).map((e) => e.event);
    expect(events.filter((event) => event === 'received')).toHaveLength(1);
    expect(events.filter((event) => event === 'attempt_started')).toHaveLength(1);
    expect(events.filter((event) => event === 'delivered')).toHaveLength(1);
    expect(await fhirCount(standIns, 'DiagnosticReport')).toBe(1);
    expect(await fhirCount(standIns, 'Patient')).toBe(1);
    for (const serve of replicas) await serve.stop();
    const verify = await runCli(['audit', 'verify'], { DATABASE_URL: database.url });
    expect(verify.code, verify.stderr).toBe(0);
  }, 120_000);
  it('a replica killed after its FHIR commit: another replica takes the job over when the lease ends and delivers it once', async () => {
    const { standIns, database, store, ports } = await setUp();
    const crashing = await startServe(standIns, database.url, ports[0]!, {
      entry: ['--import', 'tsx', 'test/support/crash-child.ts'],
      env: { CRASH_AT: 'after_fhir_commit', LEASE_SECONDS: '5' },
    });
    const [signed] = await standIns.sandbox.signReports(1);
    await waitFor('the crashing replica killed', () => crashing.child.signalCode === 'SIGKILL', 60_000);
    expect((await (await store()).deliveries.get(signed!.reportId))?.state).toBe('in_progress');
    await startServe(standIns, database.url, ports[1]!, { env: { LEASE_SECONDS: '5' } });
    await waitFor('the report delivered by the other replica', async () => (await (await store()).deliveries.get(signed!.reportId))?.state === 'delivered', 60_000);
    const events = (await (await store()).audit.ofReport(signed!.reportId)).map((e) => e.event);
    expect(events.filter((event) => event === 'lease_expired')).toHaveLength(1);
    expect(events.filter((event) => event === 'delivered')).toHaveLength(1);
    // The first attempt's FHIR transaction committed before the kill; the second's conditional writes found it.
    expect(await fhirCount(standIns, 'DiagnosticReport')).toBe(1);
    expect(await fhirCount(standIns, 'Patient')).toBe(1);
    expect(await (await store()).audit.verify()).toMatchObject({ ok: true });
  }, 120_000);
});
