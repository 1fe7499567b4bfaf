import type { Resource } from '@medplum/fhirtypes';
import { Writable } from 'node:stream';
import { startApp, type RunningApp, type StartOptions } from '../../src/app.ts';
import type { Sandbox, SandboxOptions } from '../../src/standins/avara-sandbox/start-sandbox.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/create-logger.ts';
import type { EmbeddedFhirServer, StartFhirServerOptions } from '../../src/standins/fhir-store/start-fhir-server.ts';
import { getDelivery, type Delivery } from '../../src/store/deliveries.ts';
import type { DeliveryState } from '../../src/store/schema.ts';
import { queueProgress } from './queue-progress.ts';
import { sqliteOf } from './sqlite-of.ts';
import { startStandIns } from './start-stand-ins.ts';
import { fetchPdfLink, reportDeliveredBody, signWebhook } from './test-webhooks.ts';
import { STALL_MS, waitFor, type WaitLimit } from './wait-for.ts';

export interface TestEnv {
  app: RunningApp;
  sandbox: Sandbox;
  fhir: EmbeddedFhirServer;
  dir: string;
  /** The environment a child `serve` or CLI command needs to reach these stand-ins and this database. */
  serveEnv(extra?: Record<string, string>): Record<string, string>;
  /** Every log line the app wrote, as text (for the PHI canary). */
  logText(): string;
  postWebhook(rawBody: string, headers: Record<string, string>): Promise<Response>;
  /** Posts a signed report.delivered for a report signed with `sendWebhooks: false` (a late webhook). */
  sendReportDelivered(ref: { studyId: string; reportId: string }, options?: { presignedUrl?: string }): Promise<Response>;
  /** A presigned PDF link exactly as Avara's API hands it out now. */
  pdfLink(reportId: string): Promise<string>;
  signedHeaders(rawBody: string, options?: { key?: string; id?: string; timestampSeconds?: number }): Record<string, string>;
  /** A number is a deadline in ms (default 20 s); long waits pass `untilQueueStalls`. */
  waitForDelivery(reportId: string, states: DeliveryState | DeliveryState[], limit?: number | WaitLimit): Promise<Delivery>;
  delivery(reportId: string): Delivery | undefined;
  /** Polls until `check` returns a value (not undefined/false); see test/support/wait-for.ts. */
  waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, limit?: number | WaitLimit): Promise<T>;
  /** The limit for long waits on deliveries: fail when the delivery queue has not moved for 30 s. */
  untilQueueStalls: WaitLimit;
  /** With MAX_ATTEMPTS=1: signs one report while the FHIR store is down, so its one failure is final. */
  deadLetterOneReport(): Promise<string>;
  fhirSearch<T extends Resource = Resource>(resourceType: string, query?: Record<string, string>): Promise<T[]>;
  stop(): Promise<void>;
}

export interface TestEnvOptions {
  env?: Record<string, string>;
  sandbox?: SandboxOptions;
  /** e.g. `auth.smart`: a store that wants SMART Backend Services tokens. */
  fhir?: StartFhirServerOptions;
  /** startApp's seams, e.g. a short `reachabilityIntervalMs`. */
  start?: StartOptions;
}

/** The real product on loopback: embedded FHIR store, Avara sandbox, app on its own SQLite file. */
export async function startTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const standIns = await startStandIns({ sandbox: { seed: 7, ...options.sandbox }, fhir: options.fhir });
  const { sandbox, fhir, dir } = standIns;
  const logs: string[] = [];
  const config = loadConfig(standIns.serveEnv({
    PORT: '0',
    POLL_INTERVAL_SECONDS: '0',
    RETRY_BASE_SECONDS: '0.05',
    RETRY_MAX_SECONDS: '0.5',
    LOG_LEVEL: 'debug',
    ...options.env,
  }));
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  // Tests count the requests the stand-ins get: the background reachability look runs at start
  // only, unless a test asks for an interval.
  const app = await startApp(config, createLogger(config.logLevel, sink), { reachabilityIntervalMs: 3_600_000, ...options.start });
  sandbox.setWebhookUrl(`${app.url}/webhooks/avara`);
  const describeDelivery = (reportId: string, wanted: DeliveryState[]) => {
    const row = getDelivery(sqliteOf(app).db, reportId);
    return `delivery ${reportId} is ${row ? `${row.state} (${row.lastErrorCode ?? 'no error'})` : 'absent'}, wanted ${wanted.join('|')}`;
  };

  const env: TestEnv = {
    app, sandbox, fhir, dir,
    serveEnv: (extra) => ({ PATH: process.env.PATH ?? '', ...standIns.serveEnv(extra) }),
    logText: () => logs.join(''),
    postWebhook: (rawBody, headers) =>
      fetch(`${app.url}/webhooks/avara`, { method: 'POST', body: rawBody, headers: { 'content-type': 'application/json', ...headers } }),
    pdfLink: (reportId) => fetchPdfLink(sandbox, reportId),
    async sendReportDelivered(ref, options = {}) {
      const body = reportDeliveredBody(ref, options.presignedUrl ?? (await env.pdfLink(ref.reportId)));
      return env.postWebhook(body, env.signedHeaders(body));
    },
    signedHeaders: (rawBody, opts = {}) => signWebhook(opts.key ?? sandbox.webhookKey, rawBody, opts),
    delivery: (reportId) => getDelivery(sqliteOf(app).db, reportId),
    waitFor: (what, check, limit) => waitFor(what, check, limit),
    untilQueueStalls: { stallMs: STALL_MS, progress: () => queueProgress(sqliteOf(app).db) },
    waitForDelivery(reportId, states, limit = 20_000) {
      const wanted = Array.isArray(states) ? states : [states];
      const bound = typeof limit === 'number' ? { timeoutMs: limit } : limit;
      return waitFor(`delivery ${reportId}`, () => {
        const row = getDelivery(sqliteOf(app).db, reportId);
        return row && wanted.includes(row.state) ? row : undefined;
      }, { ...bound, explain: () => describeDelivery(reportId, wanted) });
    },
    async deadLetterOneReport() {
      await fhir.faults.down();
      const [signed] = await sandbox.signReports(1);
      await env.waitForDelivery(signed!.reportId, 'dead');
      await fhir.faults.up();
      return signed!.reportId;
    },
    async fhirSearch<T extends Resource>(resourceType: string, query: Record<string, string> = {}) {
      const response = await fetch(`${fhir.baseUrl}/${resourceType}?${new URLSearchParams({ _count: '1000', ...query })}`);
      if (!response.ok) throw new Error(`FHIR search ${resourceType} answered ${response.status}`);
      const bundle = (await response.json()) as { entry?: { resource: T }[] };
      return (bundle.entry ?? []).map((e) => e.resource);
    },
    async stop() {
      await app.stop();
      await standIns.stop();
    },
  };
  return env;
}
