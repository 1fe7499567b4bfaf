import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../app.ts';
import { startSandbox, type Sandbox } from '../standins/avara-sandbox/start-sandbox.ts';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../create-logger.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../standins/fhir-store/start-fhir-server.ts';
import type { Delivery, Store } from '../store/store.ts';
import { startMllpReceiver, type MllpReceiver } from '../standins/mllp-receiver/start-mllp-receiver.ts';
import { refuseMixedFhirTargets, signForRegisteredPatients } from './demo-documents.ts';
import { printKeepUrls } from './print-demo-hints.ts';

export { printKeepUrls };

export interface DemoOptions {
  reports: number;
  keep: boolean;
  /** DELIVERY_TARGETS for the demo; hl7v2 starts the embedded MLLP receiver. Default fhir. */
  targets?: string[];
  out: NodeJS.WritableStream;
  timeoutMs?: number;
}

const FINAL_STATES = new Set(['delivered', 'skipped', 'dead']);

export interface DemoStack {
  fhir: EmbeddedFhirServer;
  sandbox: Sandbox;
  app: RunningApp;
  /** Generated per run: even on loopback, the API and page are not open to other local users or sites. */
  adminToken: string;
  /** The stand-in interface engine, when hl7v2 is a target. */
  receiver: MllpReceiver | undefined;
  targets: string[];
  /** The temporary database, removed by stop(). */
  sqlitePath: string;
  stop(): Promise<void>;
}

/**
 * The settings `serve` refuses to guess, chosen for the embedded parts: the embedded FHIR store
 * starts empty and is its own patient index, so the demo creates its patients (create) under a
 * system of its own; the sandbox writes studyDate/studyTime in UTC, so UTC is its true zone.
 */
export const DEMO_MRN_SYSTEM = 'urn:avara-fhir-sync:demo:mrn';
const DEMO_SETTINGS = { PATIENT_MODE: 'create', MRN_SYSTEM: DEMO_MRN_SYSTEM, STUDY_TIME_ZONE: 'UTC' };

/**
 * Sandbox, embedded FHIR store and the service on loopback, on a temporary SQLite file.
 * `step` hears each part as it starts (the FHIR store's definitions take a few seconds to load).
 */
export async function startDemoStack(extraEnv: Record<string, string> = {}, targets: string[] = ['fhir'], step: (line: string) => void = () => {}): Promise<DemoStack> {
  refuseMixedFhirTargets(targets);
  const dir = mkdtempSync(join(tmpdir(), 'avara-fhir-sync-demo-'));
  const sqlitePath = join(dir, 'avara-fhir-sync.db');
  const documentsOnly = targets.includes('fhir-documents');
  const fhir = await startFhirServer({ port: 0, ...(documentsOnly ? { ehr: 'documents' as const } : {}) });
  step(`embedded FHIR store${documentsOnly ? ' (as a documents-only EHR)' : ''} at ${fhir.baseUrl}`);
  const sandbox = await startSandbox({ port: 0, seed: 20261126 });
  step(`Avara sandbox at ${sandbox.baseUrl}`);
  const receiver = targets.includes('hl7v2') ? await startMllpReceiver({ port: 0, ack: 'AA' }) : undefined;
  if (receiver) step(`MLLP receiver (stand-in interface engine) at ${receiver.address.host}:${receiver.address.port}`);
  const hl7Env = receiver ? { HL7_HOST: receiver.address.host, HL7_PORT: String(receiver.address.port), HL7_RECEIVING_APPLICATION: 'DEMO_RIS' } : {};
  const adminToken = randomBytes(24).toString('base64url');
  const config = loadConfig({
    ADMIN_TOKEN: adminToken,
    AVARA_BASE_URL: sandbox.baseUrl,
    AVARA_API_KEY: sandbox.apiKey,
    AVARA_WEBHOOK_KEY: sandbox.webhookKey,
    FHIR_BASE_URL: fhir.baseUrl,
    SQLITE_PATH: sqlitePath,
    PORT: '0',
    POLL_INTERVAL_SECONDS: '0',
    RETRY_BASE_SECONDS: '1',
    LOG_LEVEL: 'warn',
    ...DEMO_SETTINGS,
    DELIVERY_TARGETS: targets.join(','),
    ...hl7Env,
    ...extraEnv,
  });
  const app = await startApp(config, createLogger(config.logLevel));
  sandbox.setWebhookUrl(`${app.url}/webhooks/avara`);
  step(`avara-fhir-sync at ${app.url} (database ${sqlitePath}), receiving the sandbox's webhooks`);
  return {
    fhir,
    sandbox,
    app,
    adminToken,
    receiver,
    targets,
    sqlitePath,
    async stop() {
      await app.stop();
      await sandbox.stop();
      await fhir.stop();
      await receiver?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `demo`: the whole product on loopback with embedded parts, end to end, then a summary. */
export async function runDemo(options: DemoOptions): Promise<{ ok: boolean; stop: () => Promise<void> }> {
  const targets = options.targets ?? ['fhir'];
  options.out.write('Starting the embedded parts on 127.0.0.1 (a few seconds)...\n');
  const stack = await startDemoStack({}, targets, (line) => options.out.write(`  started ${line}\n`));
  const { app, sandbox, stop } = stack;

  const started = Date.now();
  options.out.write(`Signing off ${options.reports} reports in the Avara sandbox (targets: ${targets.join(', ')})...\n`);
  const signed = targets.includes('fhir-documents')
    ? await signForRegisteredPatients(sandbox, stack.fhir, `${app.url}/webhooks/avara`, DEMO_MRN_SYSTEM, options.reports)
    : await sandbox.signReports(options.reports);
  const byTarget = await waitForFinalStates(app.store, signed.map((s) => s.reportId), targets, options.timeoutMs ?? 120_000);
  options.out.write(renderTable(byTarget, targets, sandbox));
  for (const target of targets) {
    const counts = countStates(byTarget.map((rows) => rows[target]));
    const label = targets.length > 1 ? `${target}: ` : '';
    options.out.write(`\n${label}${Object.entries(counts).map(([s, n]) => `${s}: ${n}`).join('  ')}`);
  }
  options.out.write(`  (in ${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  if (stack.receiver) options.out.write(`HL7 receiver: ${stack.receiver.acceptedContents().length} messages accepted, ${stack.receiver.received().length} received\n`);
  const ok = byTarget.every((rows) => targets.every((target) => rows[target]?.state === 'delivered'));
  if (options.keep) {
    printKeepUrls(options.out, stack, signed.length);
    return { ok, stop };
  }
  await stop();
  return { ok, stop: async () => {} };
}

type RowsByTarget = Record<string, Delivery | undefined>;

async function waitForFinalStates(store: Store, reportIds: string[], targets: string[], timeoutMs: number): Promise<RowsByTarget[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await Promise.all(reportIds.map(async (id) => {
      const byTarget = new Map((await store.deliveries.ofReport(id)).map((row) => [row.target, row]));
      return Object.fromEntries(targets.map((target) => [target, byTarget.get(target)]));
    }));
    const final = rows.every((byTarget) => targets.every((target) => byTarget[target] && FINAL_STATES.has(byTarget[target]!.state)));
    if (final || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Per target: its state, and what it wrote (the FHIR DiagnosticReport or DocumentReference; the HL7 control id and its ACK's).
function renderTable(rows: RowsByTarget[], targets: string[], sandbox: Sandbox): string {
  const lines = rows.map((byTarget) => {
    const any = Object.values(byTarget).find((row) => row !== undefined);
    if (!any) return ['?', '?', ...targets.flatMap(() => ['not received', ''])];
    const name = sandbox.getStudyState(any.studyId).reportMetadata.patientName;
    return [any.reportId, initials(name), ...targets.flatMap((target) => {
      const row = byTarget[target];
      if (!row) return ['not received', ''];
      const wrote = target === 'hl7v2'
        ? (row.hl7ControlId ? `${row.hl7ControlId} ACK ${row.hl7AckControlId ?? (row.state === 'delivered' ? '(unchanged content)' : '-')}` : row.lastErrorCode ?? '')
        : row.fhirRefs?.[target === 'fhir-documents' ? 'DocumentReference' : 'DiagnosticReport']?.split('/_history')[0] ?? row.lastErrorCode ?? '';
      return [row.state, wrote];
    })];
  });
  const header = ['report', 'patient', ...targets.flatMap((target) => [targets.length > 1 ? target : 'status', COLUMN[target] ?? 'FHIR DiagnosticReport'])];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n') + '\n';
}

const COLUMN: Record<string, string> = { hl7v2: 'HL7 control id and ACK', fhir: 'FHIR DiagnosticReport', 'fhir-documents': 'FHIR DocumentReference' };

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
