import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEnv, type TestEnv } from './support/test-env.ts';

const TOKEN = 'admin-token-for-api-tests-0001';

type Item = { reportId: string; state: string; critical: boolean; fhir: Record<string, string>; lastError: { code: string } | null; patient: string | null };

describe('/api/deliveries and /api/summary', () => {
  let env: TestEnv;
  let delivered: string[];
  let critical: string;
  let dead: string;

  const api = (path: string, init: RequestInit = {}, token: string | null = TOKEN) =>
    fetch(`${env.app.url}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });
  const json = async <T>(path: string): Promise<T> => {
    const response = await api(path);
    expect(response.status, path).toBe(200);
    return (await response.json()) as T;
  };

  beforeAll(async () => {
    env = await startTestEnv({ env: { ADMIN_TOKEN: TOKEN, MAX_ATTEMPTS: '1' } });
    delivered = (await env.sandbox.signReports(3)).map((r) => r.reportId);
    const [c] = await env.sandbox.signReports(1, { critical: true });
    critical = c!.reportId;
    for (const id of [...delivered, critical]) await env.waitForDelivery(id, 'delivered');
    dead = await env.deadLetterOneReport(); // MAX_ATTEMPTS=1
  });
  afterAll(() => env.stop());

  it('answers 401 without a token and with a wrong one, on every /api route', async () => {
    for (const path of ['/api/deliveries', `/api/deliveries/${dead}`, '/api/summary']) {
      expect((await api(path, {}, null)).status).toBe(401);
      expect((await api(path, {}, 'wrong-token-of-some-length')).status).toBe(401);
    }
    expect((await api(`/api/deliveries/${dead}/retry`, { method: 'POST' }, null)).status).toBe(401);
    expect((await api(`/api/deliveries/${dead}/replay`, { method: 'POST' }, 'x')).status).toBe(401);
  });

  it('lists deliveries newest first in the design.md shape, with FHIR references', async () => {
    const page = await json<{ items: Item[]; nextCursor: string | null }>('/api/deliveries');
    expect(page.items).toHaveLength(5);
    expect(page.items[0]!.reportId).toBe(dead);
    expect(new Set(page.items.map((i) => i.reportId))).toEqual(new Set([dead, critical, ...delivered]));
    expect(page.nextCursor).toBeNull();
    const first = page.items.find((i) => i.reportId === delivered[0])!;
    expect(Object.keys(first)).toEqual(expect.arrayContaining(['reportId', 'studyId', 'state', 'attempts', 'lastError', 'createdAt', 'updatedAt', 'deliveredAt', 'fhir']));
    expect(first.fhir.DiagnosticReport).toMatch(/^DiagnosticReport\/[^/]+\/_history\/\d+$/);
    // The sandbox's MRNs are H-<8 digits>: the label keeps initials and 4 digits only.
    expect(first.patient).toMatch(/^[A-Z]\.[A-Z]\. \u00b7{3}\d{4}$/);
  });

  it('filters by state, critical and date range', async () => {
    const byState = await json<{ items: Item[] }>('/api/deliveries?state=dead');
    expect(byState.items.map((i) => i.reportId)).toEqual([dead]);
    expect(byState.items[0]!.lastError?.code).toBe('fhir_unavailable');
    const several = await json<{ items: Item[] }>('/api/deliveries?state=dead,failed');
    expect(several.items.map((i) => i.reportId)).toEqual([dead]);
    const crit = await json<{ items: Item[] }>('/api/deliveries?critical=true');
    expect(crit.items.map((i) => i.reportId)).toEqual([critical]);
    const notCrit = await json<{ items: Item[] }>('/api/deliveries?critical=false');
    expect(notCrit.items).toHaveLength(4);
    const today = new Date().toISOString().slice(0, 10);
    expect((await json<{ items: Item[] }>(`/api/deliveries?from=${today}&to=${today}`)).items).toHaveLength(5);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await json<{ items: Item[] }>(`/api/deliveries?from=${encodeURIComponent(future)}`)).items).toHaveLength(0);
    expect((await json<{ items: Item[] }>(`/api/deliveries?to=2000-01-01`)).items).toHaveLength(0);
  });

  it('pages with the cursor it hands out, without gaps or repeats', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Item[]; nextCursor: string | null } = await json(`/api/deliveries?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((i) => i.reportId));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
  });

  it('answers 400 naming the field for a bad cursor, state, date, limit, critical or unknown parameter', async () => {
    const cases: [string, string][] = [
      ['cursor=not-a-cursor', 'cursor'],
      [`cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'cursor'],
      ['state=sent', 'state'],
      ['from=yesterday', 'from'],
      ['to=2026-13-01', 'to'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['critical=yes', 'critical'],
      ['status=failed', 'status'],
      ['from=2026-02-01&to=2026-01-01', 'from'],
    ];
    for (const [query, field] of cases) {
      const response = await api(`/api/deliveries?${query}`);
      expect(response.status, query).toBe(400);
      const body = (await response.json()) as { error: string; fields: string[] };
      expect(body.error).toBe('invalid_query');
      expect(body.fields, query).toContain(field);
    }
  });

  it('answers 404 for an unknown report on every per-report route', async () => {
    expect((await api('/api/deliveries/rep_unknown')).status).toBe(404);
    expect((await api('/api/deliveries/rep_unknown/retry', { method: 'POST' })).status).toBe(404);
    expect((await api('/api/deliveries/rep_unknown/replay', { method: 'POST' })).status).toBe(404);
  });

  it('shows one delivery with its attempt timeline, audit trail and FHIR references', async () => {
    const detail = await json<Item & { attemptTimeline: { attempt: number; outcome: string; code: string | null }[]; audit: { seq: number; event: string }[] }>(`/api/deliveries/${dead}`);
    expect(detail.state).toBe('dead');
    expect(detail.patient).toMatch(/\u00b7{3}\d{4}$/); // recorded before the attempt failed, for the person who must look
    expect(detail.attemptTimeline).toEqual([expect.objectContaining({ attempt: 1, outcome: 'dead', code: 'fhir_unavailable' })]);
    expect(detail.audit.map((e) => e.event)).toEqual(expect.arrayContaining(['enqueued', 'attempt_started', 'dead']));
    expect(detail.audit.map((e) => e.seq)).toEqual([...detail.audit.map((e) => e.seq)].sort((a, b) => a - b));
    const ok = await json<Item & { attemptTimeline: { outcome: string }[] }>(`/api/deliveries/${delivered[0]}`);
    expect(ok.attemptTimeline.at(-1)?.outcome).toBe('delivered');
    expect(ok.fhir).toHaveProperty('DiagnosticReport');
  });

  it('refuses to retry a delivered report (409) and to replay a dead one (409)', async () => {
    expect((await api(`/api/deliveries/${delivered[0]}/retry`, { method: 'POST' })).status).toBe(409);
    expect((await api(`/api/deliveries/${dead}/replay`, { method: 'POST' })).status).toBe(409);
  });

  it('retries a dead delivery (202) and it is delivered', async () => {
    const response = await api(`/api/deliveries/${dead}/retry`, { method: 'POST' });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ result: 'requeued' });
    await env.waitForDelivery(dead, 'delivered');
    const detail = await json<{ audit: { event: string; detail: { by?: string } | null }[] }>(`/api/deliveries/${dead}`);
    expect(detail.audit.find((e) => e.event === 'retried')?.detail?.by).toBe('api');
  });

  it('replays a delivered report (202): delivered again, nothing new in FHIR', async () => {
    const before = (await env.fhirSearch('DiagnosticReport')).length;
    expect((await api(`/api/deliveries/${delivered[1]}/replay`, { method: 'POST' })).status).toBe(202);
    await env.waitFor('the replay to be delivered', () => {
      const row = env.delivery(delivered[1]!);
      return row?.state === 'delivered' && row.attempts === 1 ? row : undefined;
    });
    expect(await env.fhirSearch('DiagnosticReport')).toHaveLength(before);
  });

  it('summarizes counts by state, the last delivery and the last 24 hours per hour', async () => {
    const summary = await json<{ counts: Record<string, number>; lastDeliveredAt: string | null; oldestWaiting: unknown; last24h: { hour: string; delivered: number; failed: number }[] }>('/api/summary');
    expect(summary.counts.delivered).toBe(5);
    expect(summary.counts.dead).toBe(0);
    expect(summary.oldestWaiting).toBeNull();
    expect(Date.parse(summary.lastDeliveredAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(summary.last24h).toHaveLength(24);
    expect(summary.last24h.reduce((n, h) => n + h.delivered, 0)).toBeGreaterThanOrEqual(6);
    expect(summary.last24h.at(-1)!.failed).toBeGreaterThanOrEqual(1);
  });
});
