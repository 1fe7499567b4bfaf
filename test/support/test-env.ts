import type { Resource } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Webhook } from 'standardwebhooks';
import { startApp, type RunningApp } from '../../src/app.ts';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/avara/sandbox/start-sandbox.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/create-logger.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../../src/fhir/embedded/start-fhir-server.ts';
import { getDelivery, type Delivery } from '../../src/store/deliveries.ts';
import type { DeliveryState } from '../../src/store/schema.ts';
import { SERVE_TEST_SETTINGS } from './serve-test-settings.ts';

export interface TestEnv {
  app: RunningApp;
  sandbox: Sandbox;
  fhir: EmbeddedFhirServer;
  dir: string;
  /** Every log line the app wrote, as text (for the PHI canary). */
  logText(): string;
  postWebhook(rawBody: string, headers: Record<string, string>): Promise<Response>;
  /** Posts a signed report.delivered for a report signed with `sendWebhooks: false` (a late webhook). */
  sendReportDelivered(ref: { studyId: string; reportId: string }, options?: { presignedUrl?: string }): Promise<Response>;
  /** A presigned PDF link exactly as Avara's API hands it out now. */
  pdfLink(reportId: string): Promise<string>;
  signedHeaders(rawBody: string, options?: { key?: string; id?: string; timestampSeconds?: number }): Record<string, string>;
  waitForDelivery(reportId: string, states: DeliveryState | DeliveryState[], timeoutMs?: number): Promise<Delivery>;
  delivery(reportId: string): Delivery | undefined;
  /** Polls until `check` returns a value (not undefined/false), or fails after the timeout. */
  waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  fhirSearch<T extends Resource = Resource>(resourceType: string, query?: Record<string, string>): Promise<T[]>;
  stop(): Promise<void>;
}

export interface TestEnvOptions {
  env?: Record<string, string>;
  sandbox?: SandboxOptions;
}

/** The real product on loopback: embedded FHIR store, Avara sandbox, app on its own SQLite file. */
export async function startTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'afs-test-'));
  const fhir = await startFhirServer({ port: 0 });
  const sandbox = await startSandbox({ port: 0, seed: 7, ...options.sandbox });
  const logs: string[] = [];
  const config = loadConfig({
    AVARA_BASE_URL: sandbox.baseUrl,
    AVARA_API_KEY: sandbox.apiKey,
    AVARA_WEBHOOK_KEY: sandbox.webhookKey,
    FHIR_BASE_URL: fhir.baseUrl,
    SQLITE_PATH: join(dir, 'state.db'),
    PORT: '0',
    POLL_INTERVAL_SECONDS: '0',
    RETRY_BASE_SECONDS: '0.05',
    RETRY_MAX_SECONDS: '0.5',
    LOG_LEVEL: 'debug',
    ...SERVE_TEST_SETTINGS,
    ...options.env,
  });
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  const app = await startApp(config, createLogger(config.logLevel, sink));
  sandbox.setWebhookUrl(`${app.url}/webhooks/avara`);

  const env: TestEnv = {
    app, sandbox, fhir, dir,
    logText: () => logs.join(''),
    postWebhook: (rawBody, headers) =>
      fetch(`${app.url}/webhooks/avara`, { method: 'POST', body: rawBody, headers: { 'content-type': 'application/json', ...headers } }),
    async pdfLink(reportId) {
      const response = await fetch(`${sandbox.baseUrl}/v1/autoScribe/reports/pdf?reportId=${reportId}`, {
        headers: { authorization: `Bearer ${sandbox.apiKey}` },
      });
      return ((await response.json()) as { presignedUrl: string }).presignedUrl;
    },
    async sendReportDelivered(ref, options = {}) {
      const body = JSON.stringify({
        id: `whe_${randomBytes(16).toString('hex')}`,
        type: 'report.delivered',
        data: { studyId: ref.studyId, reportId: ref.reportId, isCritical: false, presignedUrl: options.presignedUrl ?? (await env.pdfLink(ref.reportId)) },
      });
      return env.postWebhook(body, env.signedHeaders(body));
    },
    signedHeaders(rawBody, opts = {}) {
      const id = opts.id ?? `msg_${Math.random().toString(36).slice(2)}`;
      const at = new Date((opts.timestampSeconds ?? Math.floor(Date.now() / 1000)) * 1000);
      const signature = new Webhook(opts.key ?? sandbox.webhookKey).sign(id, at, rawBody);
      return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
    },
    delivery: (reportId) => getDelivery(app.store.db, reportId),
    async waitFor(what, check, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async waitForDelivery(reportId, states, timeoutMs = 20_000) {
      const wanted = Array.isArray(states) ? states : [states];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const row = getDelivery(app.store.db, reportId);
        if (row && wanted.includes(row.state)) return row;
        if (Date.now() > deadline) {
          throw new Error(`delivery ${reportId} is ${row ? `${row.state} (${row.lastErrorCode ?? 'no error'})` : 'absent'}, wanted ${wanted.join('|')}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async fhirSearch<T extends Resource>(resourceType: string, query: Record<string, string> = {}) {
      const response = await fetch(`${fhir.baseUrl}/${resourceType}?${new URLSearchParams({ _count: '1000', ...query })}`);
      if (!response.ok) throw new Error(`FHIR search ${resourceType} answered ${response.status}`);
      const bundle = (await response.json()) as { entry?: { resource: T }[] };
      return (bundle.entry ?? []).map((e) => e.resource);
    },
    async stop() {
      await app.stop();
      await sandbox.stop();
      await fhir.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return env;
}
