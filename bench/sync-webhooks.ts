import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '@medplum/fhirtypes';
import { Webhook } from 'standardwebhooks';
import { startApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load-config.ts';
import { createLogger } from '../src/create-logger.ts';
import { forkRpcChild } from './child-rpc.ts';
import { BENCH_MAPPING_SETTINGS } from './serve-process.ts';
import { figureOf, progress, repeat, round, type Figure } from './figures.ts';
import type { Agent } from 'node:http';
import { httpRequest, keepAliveAgent } from './http-request.ts';
import { sqliteOf } from '../test/support/sqlite-of.ts';

// Synchronous webhooks (issue 9): p99 of patient_study.enrichment_requested answered by serve
// under `connections` concurrent requests, against the p99 of the FHIR store's own search for the
// same order under the same concurrency. Enrichment does 3 rounds of searches (5-6 in all); the
// ratio says what the orchestration costs on top. Each request has its own Study Instance UID,
// so the by-UID search is never cached; the by-accession one may be (200 orders, 10 s TTL), as
// it would be when Avara asks about a study again.
// Standalone: npx tsx bench/sync-webhooks.ts [--quick]. The FHIR store runs in a child process;
// serve runs in this process with the load generator, so its figures carry that overhead.

export interface SyncWebhookFigures {
  connections: number;
  orders: number;
  fhirSearchP99Ms: Figure;
  answerP99Ms: Figure;
  answerP50Ms: Figure;
  ratio: number;
  errors: number;
  budgetMs: number;
}

const MRN_SYSTEM = 'urn:bench:mrn';

export async function measureSyncWebhooks(options: { connections?: number; seconds?: number; orders?: number; times?: number } = {}): Promise<SyncWebhookFigures> {
  const connections = options.connections ?? 50;
  const seconds = options.seconds ?? 5;
  const orderCount = options.orders ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'afs-bench-sync-'));
  // The store in its own process, as an EHR's server would be; serve and the load generator share this one.
  const fhirChild = await forkRpcChild<{ baseUrl: string }>('fhir-child.ts');
  const fhir = fhirChild.info;
  await seedOrders(fhir.baseUrl, orderCount);
  const webhookKey = `whsec_${randomBytes(24).toString('base64')}`;
  const config = loadConfig({
    AVARA_BASE_URL: 'http://127.0.0.1:9', AVARA_API_KEY: `sk_live_${'0'.repeat(32)}`, AVARA_WEBHOOK_KEY: webhookKey, FHIR_BASE_URL: fhir.baseUrl,
    SQLITE_PATH: join(dir, 'state.db'), PORT: '0', POLL_INTERVAL_SECONDS: '0', LOG_LEVEL: 'warn', ...BENCH_MAPPING_SETTINGS, MRN_SYSTEM,
  });
  const app = await startApp(config, createLogger('warn'));
  try {
    const signer = new Webhook(webhookKey);
    let n = 0;
    const nextWebhook = () => {
      n += 1;
      const body = JSON.stringify({ id: `whe_${n}`, type: 'patient_study.enrichment_requested', data: { clinicId: '1b4e28ba-2fa1-41d2-883f-0016d3cca427', studyInstanceUid: `2.25.${n}`, accessionNumber: `ACC-${n % orderCount}` } });
      const id = `msg_${n}`;
      const at = new Date();
      return { url: `${app.url}/webhooks/avara`, method: 'POST', body, headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signer.sign(id, at, body) } };
    };
    let m = 0;
    const nextSearch = () => ({ url: `${fhir.baseUrl}/ServiceRequest?identifier=ACC-${m++ % orderCount}`, method: 'GET' });
    // One keep-alive pool per target, warmed up (connections, JIT, first searches) before the
    // runs: opening 50 connections at once stalls some of them ~2 s here, for both targets alike.
    const fhirAgent = keepAliveAgent(connections);
    const appAgent = keepAliveAgent(connections);
    await closedLoop(fhirAgent, nextSearch, connections, 1);
    await closedLoop(appAgent, nextWebhook, connections, 1);
    const afterWarmup = (sqliteOf(app).sqlite.prepare('SELECT max(seq) AS seq FROM audit_events').get() as { seq: number }).seq;
    const runs = await repeat(options.times ?? 3, async (run) => {
      const search = await closedLoop(fhirAgent, nextSearch, connections, seconds);
      const answer = await closedLoop(appAgent, nextWebhook, connections, seconds);
      progress(`sync webhooks run ${run + 1}: FHIR search p99 ${round(search.p99Ms)} ms, enrichment p99 ${round(answer.p99Ms)} ms (${answer.requests} answers, ${answer.errors} errors)`);
      return { search, answer };
    });
    const outcomes = sqliteOf(app).sqlite
      .prepare("SELECT json_extract(detail, '$.outcome') AS outcome, count(*) AS n, max(json_extract(detail, '$.ms')) AS maxMs FROM audit_events WHERE event = 'sync_webhook_answered' AND seq > ? GROUP BY 1")
      .all(afterWarmup) as { outcome: string; n: number; maxMs: number }[];
    progress(`sync webhook outcomes: ${outcomes.map((o) => `${o.outcome} ${o.n} (max ${o.maxMs} ms inside)`).join(', ')}`);
    fhirAgent.destroy();
    appAgent.destroy();
    const fhirSearchP99Ms = figureOf(runs.map((r) => r.search.p99Ms));
    const answerP99Ms = figureOf(runs.map((r) => r.answer.p99Ms));
    return {
      connections, orders: orderCount, fhirSearchP99Ms, answerP99Ms,
      answerP50Ms: figureOf(runs.map((r) => r.answer.p50Ms)),
      ratio: answerP99Ms.median / fhirSearchP99Ms.median,
      errors: runs.reduce((sum, r) => sum + r.answer.errors, 0),
      budgetMs: config.answers.budgetMs,
    };
  } finally {
    await app.stop();
    await fhirChild.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Request = { url: string; method: string; body?: string; headers?: Record<string, string> };

async function closedLoop(agent: Agent, next: () => Request, connections: number, seconds: number): Promise<{ p50Ms: number; p99Ms: number; requests: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < deadline) {
      const request = next();
      const sentAt = performance.now();
      try {
        const answer = await httpRequest(agent, request.url, request);
        if (answer.status !== 200) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - sentAt);
    }
  }));
  const sorted = latencies.sort((a, b) => a - b);
  if (process.env.SYNC_BENCH_DEBUG) progress(`slowest: ${sorted.slice(-8).map((x) => Math.round(x)).join(" ")}; p90 ${Math.round(sorted[Math.floor(0.9 * sorted.length)] ?? 0)}`);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { p50Ms: at(0.5), p99Ms: at(0.99), requests: latencies.length, errors };
}

async function seedOrders(fhirBaseUrl: string, count: number): Promise<void> {
  const entries = Array.from({ length: count }, (_, i) => {
    const p = `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const resources: Resource[] = [
      { resourceType: 'Patient', identifier: [{ system: MRN_SYSTEM, value: `MRN-${i}` }], name: [{ family: `Bench${i}`, given: ['Pat'] }], gender: 'female', birthDate: '1970-01-01' },
      {
        resourceType: 'ServiceRequest', status: 'active', intent: 'order', priority: 'routine', subject: { reference: p },
        identifier: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, value: `ACC-${i}` }],
        code: { text: 'CT Chest' }, requester: { display: 'Dr. Bench' }, occurrenceDateTime: '2026-11-20T09:00:00Z',
      },
    ];
    return resources.map((resource, k) => ({ ...(k === 0 ? { fullUrl: p } : {}), resource, request: { method: 'POST', url: resource.resourceType } }));
  }).flat();
  const response = await fetch(fhirBaseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: entries }) });
  if (!response.ok) throw new Error(`seeding answered ${response.status}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const figures = await measureSyncWebhooks(quick ? { seconds: 2, times: 1, orders: 50 } : {});
  const f = (x: Figure) => `${round(x.median)} ms (${round(x.min)}-${round(x.max)})`;
  console.log(`FHIR store search p99, ${figures.connections} connections: ${f(figures.fhirSearchP99Ms)}`);
  console.log(`enrichment answer p99, ${figures.connections} connections: ${f(figures.answerP99Ms)}; p50 ${f(figures.answerP50Ms)}; errors ${figures.errors}`);
  console.log(`answer p99 / search p99: ${figures.ratio.toFixed(2)}; budget ${figures.budgetMs} ms`);
}
