import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startMllpReceiver } from '../src/standins/mllp-receiver/start-mllp-receiver.ts';
import { startFhirServer } from '../src/standins/fhir-store/start-fhir-server.ts';
import { probeFhirServer } from '../src/reachability/probe-fhir.ts';
import { createFhirClient } from '../src/fhir/fhir-client.ts';
import { createAvaraClient } from '../src/avara/avara-client.ts';
import { WORKER_IN_MAIN_THREAD } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { stopAfterEach } from './support/stop-after-each.ts';

type TargetStatus = { reachable: boolean | null; cause?: string; endpoint?: string; detail?: string; checkedAt: string | null };
type Ready = { status: string; targets: Record<string, TargetStatus> };

/** A loopback port nothing listens on (taken from the kernel, then given back). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function readyz(env: TestEnv): Promise<{ status: number; body: Ready }> {
  const response = await fetch(`${env.app.url}/readyz`);
  return { status: response.status, body: (await response.json()) as Ready };
}

/** The app's log lines as objects (pino JSON). */
function logLines(env: TestEnv): Record<string, unknown>[] {
  return env.logText().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

const metadataReads = (env: TestEnv) => env.fhir.requests().filter((r) => r.method === 'GET' && r.path.endsWith('/metadata')).length;

describe('an unreachable EHR is visible at start (issue 18, item 6)', () => {
  const stopLater = stopAfterEach();

  it('warns at start with the cause and host:port of each target, stays ready, and readyz follows the target back up', async () => {
    const port = await closedPort();
    const fhirBaseUrl = `http://127.0.0.1:${port}/fhir/R4`;
    const env = stopLater(await startTestEnv({
      env: { ...WORKER_IN_MAIN_THREAD, FHIR_BASE_URL: fhirBaseUrl, DELIVERY_TARGETS: 'fhir,hl7v2', HL7_HOST: 'nonexistent.invalid', HL7_PORT: '2575' },
      start: { reachabilityIntervalMs: 200 },
    }));
    const warning = (target: string) => env.waitFor(`the ${target} warning`, () => logLines(env).find((l) => l.target === target && l.msg === 'delivery target unreachable at start; deliveries to it wait and retry'));
    expect(await warning('fhir')).toMatchObject({ level: 40, cause: 'refused', detail: 'ECONNREFUSED', endpoint: `127.0.0.1:${port}` });
    expect(await warning('hl7v2')).toMatchObject({ level: 40, cause: 'dns', endpoint: 'nonexistent.invalid:2575', detail: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/) });

    // Readiness is about the database: a target that is down does not take intake out of the load balancer.
    const down = await readyz(env);
    expect(down.status).toBe(200);
    expect(down.body.status).toBe('ready');
    expect(down.body.targets.fhir).toMatchObject({ reachable: false, cause: 'refused', endpoint: `127.0.0.1:${port}`, detail: 'ECONNREFUSED' });
    expect(down.body.targets.hl7v2).toMatchObject({ reachable: false, cause: 'dns' });
    expect(Date.parse(down.body.targets.fhir!.checkedAt!)).toBeGreaterThan(Date.now() - 60_000);

    // A delivery meanwhile fails with the socket's code and where, not a bare "fetch failed".
    const [signed] = await env.sandbox.signReports(1);
    const failed = await env.waitForDelivery(signed!.reportId, ['failed', 'dead']);
    expect(failed).toMatchObject({ lastErrorCode: 'fhir_unavailable', lastErrorMessage: `FHIR server unreachable (ECONNREFUSED 127.0.0.1:${port})` });

    // The EHR comes up on that port: the background check sees it without anyone asking.
    const ehr = await startFhirServer({ port });
    try {
      await env.waitFor('readyz to see the FHIR server', async () => (await readyz(env)).body.targets.fhir?.reachable === true);
      expect(logLines(env).some((l) => l.target === 'fhir' && l.msg === 'delivery target reachable again')).toBe(true);
    } finally {
      await ehr.stop();
    }
  });

  it('names DNS, refused, TLS, auth and HTTP status as causes', async () => {
    const refused = await closedPort();
    const cases: [string, string, Partial<TargetStatus>][] = [
      ['refused', `http://127.0.0.1:${refused}/fhir`, { cause: 'refused', endpoint: `127.0.0.1:${refused}`, detail: 'ECONNREFUSED' }],
      ['dns', 'http://nonexistent.invalid/fhir', { cause: 'dns', endpoint: 'nonexistent.invalid:80' }],
    ];
    const env = stopLater(await startTestEnv({ env: WORKER_IN_MAIN_THREAD }));
    // TLS spoken to a plain HTTP port (the FHIR store's own).
    cases.push(['tls', env.fhir.baseUrl.replace('http://', 'https://'), { cause: 'tls', endpoint: new URL(env.fhir.baseUrl).host }]);
    for (const [name, url, expected] of cases) {
      expect(await probeFhirServer({ baseUrl: url, auth: { kind: 'none' } }), name).toMatchObject({ reachable: false, ...expected });
    }
    const isMetadata = (method: string, path: string) => path.endsWith('/metadata');
    env.fhir.faults.failNext(1, 401, { matcher: isMetadata });
    expect(await probeFhirServer({ baseUrl: env.fhir.baseUrl, auth: { kind: 'bearer', token: 'expired' } })).toMatchObject({ reachable: false, cause: 'auth', detail: '401' });
    env.fhir.faults.failNext(1, 503, { matcher: isMetadata });
    expect(await probeFhirServer({ baseUrl: env.fhir.baseUrl, auth: { kind: 'none' } })).toMatchObject({ reachable: false, cause: 'http', detail: '503' });
    expect(await probeFhirServer({ baseUrl: env.fhir.baseUrl, auth: { kind: 'none' } })).toMatchObject({ reachable: true, cause: 'ok' });
  });

  it('readyz reads the last background result: no network call per request', async () => {
    const receiver = stopLater(await startMllpReceiver({ port: 0, ack: 'AA' }));
    const env = stopLater(await startTestEnv({ env: { ...WORKER_IN_MAIN_THREAD, DELIVERY_TARGETS: 'fhir,hl7v2', HL7_HOST: receiver.address.host, HL7_PORT: String(receiver.address.port) } }));
    const first = await env.waitFor('the first check', async () => {
      const { body } = await readyz(env);
      return body.targets.fhir?.checkedAt && body.targets.hl7v2?.checkedAt ? body : undefined;
    });
    expect(first.targets.fhir).toMatchObject({ reachable: true, cause: 'ok' });
    expect(first.targets.hl7v2).toMatchObject({ reachable: true, cause: 'ok', endpoint: `${receiver.address.host}:${receiver.address.port}` });
    const reads = metadataReads(env);
    for (let i = 0; i < 5; i++) expect((await readyz(env)).body.targets.fhir?.checkedAt).toBe(first.targets.fhir!.checkedAt);
    expect(metadataReads(env)).toBe(reads);
    // Nothing was sent to the interface engine: the check only connects.
    expect(receiver.received()).toHaveLength(0);
  });
});

describe('delivery errors keep the cause code and host (issue 18, item 6)', () => {
  it('FHIR and Avara calls name ECONNREFUSED with the address and port, and an unresolvable host by its name', async () => {
    const port = await closedPort();
    const refused = createFhirClient({ baseUrl: `http://127.0.0.1:${port}/fhir`, auth: { kind: 'none' }, maxRetries: 0 });
    await expect(refused.search('Patient', { identifier: 'x|y' })).rejects.toMatchObject({ code: 'fhir_unavailable', retryable: true, message: `FHIR server unreachable (ECONNREFUSED 127.0.0.1:${port})` });
    const unresolvable = createFhirClient({ baseUrl: 'http://nonexistent.invalid/fhir', auth: { kind: 'none' }, maxRetries: 0 });
    await expect(unresolvable.search('Patient', {})).rejects.toMatchObject({ message: expect.stringMatching(/^FHIR server unreachable \((ENOTFOUND|EAI_AGAIN) nonexistent\.invalid:80\)$/) });
    const tokens = createFhirClient({ baseUrl: 'http://127.0.0.1:1/fhir', auth: { kind: 'client_credentials', clientId: 'c', clientSecret: 's', tokenUrl: `http://127.0.0.1:${port}/token` }, maxRetries: 0 });
    await expect(tokens.search('Patient', {})).rejects.toMatchObject({ message: `FHIR token endpoint unreachable (ECONNREFUSED 127.0.0.1:${port})` });

    const avara = createAvaraClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'sk_live_0123456789abcdef0123456789abcdef', pdfAllowedHosts: ['127.0.0.1'], maxRetries: 0 });
    await expect(avara.getStudy('stu_1')).rejects.toMatchObject({ code: 'avara_unavailable', message: expect.stringContaining(`failed without an answer (ECONNREFUSED 127.0.0.1:${port})`) });
  });
});
