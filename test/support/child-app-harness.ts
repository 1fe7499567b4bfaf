import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { count, eq } from 'drizzle-orm';
import type { SignedRef } from '../../src/standins/avara-sandbox/sandbox-types.ts';
import type { Sandbox } from '../../src/standins/avara-sandbox/start-sandbox.ts';
import type { EmbeddedFhirServer } from '../../src/standins/fhir-store/start-fhir-server.ts';
import { countDeliveriesByState, getDelivery, type Delivery } from '../../src/store/deliveries.ts';
import { openSqlite, type SqliteConnection } from '../../src/store/open-store.ts';
import type { AuditEventName } from '../../src/store/audit.ts';
import { auditEvents, inbox, type DeliveryState } from '../../src/store/schema.ts';
import { queueProgress } from './queue-progress.ts';
import { startStandIns } from './start-stand-ins.ts';
import { fetchPdfLink, reportDeliveredBody, signWebhook } from './test-webhooks.ts';
import { STALL_MS, waitFor, type WaitLimit } from './wait-for.ts';

export type ChildExit = { code: number | null; signal: NodeJS.Signals | null };
type LogLine = Record<string, unknown> & { msg?: string };

/** One run of the app as a child process; the harness starts a new one after each kill. */
export interface ChildRun {
  process: ChildProcessWithoutNullStreams;
  exited: Promise<ChildExit>;
  /** Resolves with the first log line (already seen or still to come) that matches. */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** kill -9, resolved once the process is gone. */
  kill9(): Promise<ChildExit>;
  logTail(): string;
  /** Everything the child wrote to stdout and stderr so far, line by line. */
  logText(): string;
}

export interface ChildAppHarness {
  sandbox: Sandbox;
  fhir: EmbeddedFhirServer;
  /** Fixed across restarts, so the sandbox's webhook URL stays valid. */
  url: string;
  sqlitePath: string;
  /**
   * `crash-child` (test/support/crash-child.ts, honours CRASH_*) or the real CLI `serve`.
   * Resolves when the child logs that it is listening.
   */
  start(options?: { env?: Record<string, string>; entry?: 'crash-child' | 'serve' }): Promise<ChildRun>;
  /** The same SQLite file, opened read-side in the test process (WAL: the child keeps writing). */
  readStore(): SqliteConnection;
  deliveryCounts(): Record<DeliveryState, number>;
  auditEventCount(event: AuditEventName): number;
  /** Why deliveries were given back to the queue (`shutdown`, `study_or_patient_locked`, ...), one entry per release. */
  releaseReasons(): string[];
  /** The report's delivery to `target` (default the first target, `fhir`). */
  delivery(reportId: string, target?: string): Delivery | undefined;
  inboxCount(webhookId?: string): number;
  /** A signed report.delivered for a report signed with `sendWebhooks: false`, posted to the child. */
  postReportDelivered(ref: SignedRef): Promise<Response>;
  /** How many resources of a type the FHIR store holds (FHIR search). */
  fhirCount(resourceType: string): Promise<number>;
  /** Polls until `check` returns a value (not undefined/false); see test/support/wait-for.ts. */
  waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, limit?: number | WaitLimit): Promise<T>;
  /** The limit for long waits on deliveries: fail when the child's delivery queue has not moved for 30 s. */
  untilQueueStalls: WaitLimit;
  /** Waits until every one is delivered (to `target`, default `fhir`); by default fails only when the queue stalls (`untilQueueStalls`). */
  waitForDelivered(reportIds: string[], limit?: number | WaitLimit, target?: string): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = {
  'crash-child': ['--import', 'tsx', join(ROOT, 'test/support/crash-child.ts')],
  serve: [join(ROOT, 'src/cli-entry.mjs'), 'serve'],
};
const LOG_TAIL_LINES = 60;

/** Sandbox and embedded FHIR store in the test process; the app in a child on one SQLite file. */
export async function startChildAppHarness(options: { env?: Record<string, string>; seed?: number } = {}): Promise<ChildAppHarness> {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const standIns = await startStandIns({ dirPrefix: 'afs-child-', sandbox: { seed: options.seed ?? 11, webhookUrl: `${url}/webhooks/avara` } });
  const { sandbox, fhir, sqlitePath } = standIns;
  const baseEnv = standIns.serveEnv({
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(port),
    POLL_INTERVAL_SECONDS: '0',
    RETRY_BASE_SECONDS: '0.05',
    RETRY_MAX_SECONDS: '0.5',
    LEASE_SECONDS: '5',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const runs: ChildRun[] = [];
  let reader: SqliteConnection | undefined;
  // Opened after the first child migrated the file; WAL lets this reader share it with the child.
  const store = (): SqliteConnection => (reader ??= openSqlite({ sqlitePath, migrate: false }));

  const harness: ChildAppHarness = {
    sandbox, fhir, url, sqlitePath,
    async start(startOptions = {}) {
      const run = spawnChild(ENTRIES[startOptions.entry ?? 'crash-child'], { ...baseEnv, ...startOptions.env });
      runs.push(run);
      await run.waitForLog('the listening line', (line) => line.msg === 'avara-fhir-sync listening', 30_000);
      return run;
    },
    readStore: store,
    deliveryCounts: () => countDeliveriesByState(store().db),
    auditEventCount(event) {
      return store().db.select({ n: count() }).from(auditEvents).where(eq(auditEvents.event, event)).get()?.n ?? 0;
    },
    releaseReasons() {
      const rows = store().db.select({ detail: auditEvents.detail }).from(auditEvents).where(eq(auditEvents.event, 'released')).all();
      return rows.map((row) => String(row.detail?.reason));
    },
    delivery: (reportId, target) => getDelivery(store().db, reportId, target),
    inboxCount(webhookId) {
      const query = store().db.select({ n: count() }).from(inbox);
      return (webhookId ? query.where(eq(inbox.webhookId, webhookId)) : query).get()?.n ?? 0;
    },
    async postReportDelivered(ref) {
      const body = reportDeliveredBody(ref, await fetchPdfLink(sandbox, ref.reportId));
      const headers = { 'content-type': 'application/json', ...signWebhook(sandbox.webhookKey, body, { id: ref.webhookId }) };
      return fetch(`${url}/webhooks/avara`, { method: 'POST', body, headers });
    },
    async fhirCount(resourceType) {
      const response = await fetch(`${fhir.baseUrl}/${resourceType}?_count=1000`);
      if (!response.ok) throw new Error(`FHIR search ${resourceType} answered ${response.status}`);
      return ((await response.json()) as { entry?: unknown[] }).entry?.length ?? 0;
    },
    waitFor: (what, check, limit = 30_000) => waitFor(what, check, limit),
    untilQueueStalls: { stallMs: STALL_MS, progress: () => queueProgress(store().db) },
    async waitForDelivered(reportIds, limit = harness.untilQueueStalls, target) {
      const bound = typeof limit === 'number' ? { timeoutMs: limit } : limit;
      await waitFor(`${reportIds.length} deliveries delivered${target ? ` to ${target}` : ''}`, () => {
        const notYet = reportIds.filter((id) => harness.delivery(id, target)?.state !== 'delivered');
        return notYet.length === 0;
      }, {
        ...bound,
        explain() {
          const states = reportIds.map((id) => harness.delivery(id, target)).map((d) => `${d?.state ?? 'absent'}${d?.lastErrorCode ? `(${d.lastErrorCode})` : ''}`);
          const tally = [...new Set(states)].map((s) => `${s}: ${states.filter((t) => t === s).length}`).join(', ');
          return `states ${tally}; child log:\n${runs.at(-1)?.logTail() ?? ''}`;
        },
      });
    },
    async stop() {
      await Promise.all(runs.map((run) => run.kill9()));
      reader?.close();
      await standIns.stop();
    },
  };
  return harness;
}

function spawnChild(args: string[], env: Record<string, string>): ChildRun {
  const child = spawn(process.execPath, args, { cwd: ROOT, env });
  const lines: LogLine[] = [];
  const tail: string[] = [];
  const all: string[] = [];
  const waiters = new Set<() => void>();
  const onText = (text: string) => {
    tail.push(text);
    all.push(text);
    if (tail.length > LOG_TAIL_LINES) tail.shift();
    try {
      lines.push(JSON.parse(text) as LogLine);
    } catch {
      return;
    }
    for (const waiter of waiters) waiter();
  };
  // Always drain both pipes: a child blocked on a full stdout pipe would look hung.
  createInterface({ input: child.stdout }).on('line', onText);
  createInterface({ input: child.stderr }).on('line', onText);
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => {
    gone = true;
    for (const waiter of waiters) waiter();
  });
  const logTail = () => tail.join('\n');

  return {
    process: child,
    exited,
    logTail,
    logText: () => all.join('\n'),
    waitForLog(what, match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}; child log:\n${logTail()}`)), timeoutMs);
        const check = () => {
          const found = lines.find(match);
          if (found) finish(undefined, found);
          else if (gone) finish(new Error(`child exited before ${what}; child log:\n${logTail()}`));
        };
        const finish = (error?: Error, line?: LogLine) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(line!);
        };
        waiters.add(check);
        check();
      });
    },
    async kill9() {
      if (!gone) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** A port free now; the child binds it on every restart (SO_REUSEADDR makes rebinding after a kill safe). */
function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
