import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../app.ts';
import { startSandbox, type Sandbox } from '../standins/avara-sandbox/start-sandbox.ts';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../create-logger.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../standins/fhir-store/start-fhir-server.ts';
import { getDelivery, type Delivery } from '../store/deliveries.ts';
import type { Store } from '../store/open-store.ts';

export interface DemoOptions {
  reports: number;
  keep: boolean;
  out: NodeJS.WritableStream;
  timeoutMs?: number;
}

const FINAL_STATES = new Set(['delivered', 'skipped', 'dead']);

export interface DemoStack {
  fhir: EmbeddedFhirServer;
  sandbox: Sandbox;
  app: RunningApp;
  stop(): Promise<void>;
}

/**
 * The settings `serve` refuses to guess, chosen for the embedded parts: the embedded FHIR store
 * starts empty and is its own patient index, so the demo creates its patients (create) under a
 * system of its own; the sandbox writes studyDate/studyTime in UTC, so UTC is its true zone.
 */
export const DEMO_MRN_SYSTEM = 'urn:avara-fhir-sync:demo:mrn';
const DEMO_SETTINGS = { PATIENT_MODE: 'create', MRN_SYSTEM: DEMO_MRN_SYSTEM, STUDY_TIME_ZONE: 'UTC' };

/** Sandbox, embedded FHIR store and the service on loopback, on a temporary SQLite file. */
export async function startDemoStack(extraEnv: Record<string, string> = {}): Promise<DemoStack> {
  const dir = mkdtempSync(join(tmpdir(), 'avara-fhir-sync-demo-'));
  const fhir = await startFhirServer({ port: 0 });
  const sandbox = await startSandbox({ port: 0, seed: 20261126 });
  const config = loadConfig({
    AVARA_BASE_URL: sandbox.baseUrl,
    AVARA_API_KEY: sandbox.apiKey,
    AVARA_WEBHOOK_KEY: sandbox.webhookKey,
    FHIR_BASE_URL: fhir.baseUrl,
    SQLITE_PATH: join(dir, 'avara-fhir-sync.db'),
    PORT: '0',
    POLL_INTERVAL_SECONDS: '0',
    RETRY_BASE_SECONDS: '1',
    LOG_LEVEL: 'warn',
    ...DEMO_SETTINGS,
    ...extraEnv,
  });
  const app = await startApp(config, createLogger(config.logLevel));
  sandbox.setWebhookUrl(`${app.url}/webhooks/avara`);
  return {
    fhir,
    sandbox,
    app,
    async stop() {
      await app.stop();
      await sandbox.stop();
      await fhir.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function printKeepUrls(out: NodeJS.WritableStream, { app, sandbox, fhir }: DemoStack): void {
  out.write(
    `\nStill running (Ctrl-C to stop):\n  service      ${app.url}  (audit page ${app.url}/, webhooks at ${app.url}/webhooks/avara, API at ${app.url}/api/deliveries)\n` +
      `  Avara        ${sandbox.baseUrl}  (control: ${sandbox.controlUrl}, API key ${sandbox.apiKey})\n  FHIR store   ${fhir.baseUrl}\n` +
      `  sign more    curl -X POST ${sandbox.controlUrl}/sign -H 'content-type: application/json' -d '{"count": 3}'\n`,
  );
}

/** `demo`: the whole product on loopback with embedded parts, end to end, then a summary. */
export async function runDemo(options: DemoOptions): Promise<{ ok: boolean; stop: () => Promise<void> }> {
  const stack = await startDemoStack();
  const { app, sandbox, stop } = stack;

  const started = Date.now();
  options.out.write(`Signing off ${options.reports} reports in the Avara sandbox...\n`);
  const signed = await sandbox.signReports(options.reports);
  const rows = await waitForFinalStates(app.store, signed.map((s) => s.reportId), options.timeoutMs ?? 120_000);
  options.out.write(renderTable(rows, sandbox));
  const counts = countStates(rows);
  options.out.write(`\n${Object.entries(counts).map(([s, n]) => `${s}: ${n}`).join('  ')}  (in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  const ok = rows.every((r) => r?.state === 'delivered');
  if (options.keep) {
    printKeepUrls(options.out, stack);
    return { ok, stop };
  }
  await stop();
  return { ok, stop: async () => {} };
}

async function waitForFinalStates(store: Store, reportIds: string[], timeoutMs: number): Promise<(Delivery | undefined)[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = reportIds.map((id) => getDelivery(store.db, id));
    if (rows.every((r) => r && FINAL_STATES.has(r.state)) || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function renderTable(rows: (Delivery | undefined)[], sandbox: Sandbox): string {
  const lines = rows.map((row) => {
    if (!row) return ['?', '?', 'not received', ''];
    const name = sandbox.getStudyState(row.studyId).reportMetadata.patientName;
    const fhirId = row.fhirRefs?.DiagnosticReport?.split('/_history')[0] ?? row.lastErrorCode ?? '';
    return [row.reportId, initials(name), row.state, fhirId];
  });
  const header = ['report', 'patient', 'status', 'FHIR DiagnosticReport'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n') + '\n';
}

/** Initials only: the demo table must not show a patient's name either. */
function initials(name: string | undefined): string {
  if (!name) return '-';
  const parts = name.includes(',') ? name.split(',').reverse() : name.split(/\s+/);
  return parts.map((p) => p.trim()[0]?.toUpperCase() ?? '').filter(Boolean).join('.') + '.';
}

function countStates(rows: (Delivery | undefined)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row?.state ?? 'missing'] = (counts[row?.state ?? 'missing'] ?? 0) + 1;
  return counts;
}
