import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.ts';
import { createLogger } from '../src/create-logger.ts';
import { startWorkerThread } from '../src/deliveries/worker-thread/start-worker-thread.ts';
import { SERVE_TEST_SETTINGS } from './support/serve-test-settings.ts';
import { startTestEnv, type TestEnv } from './support/test-env.ts';
import { waitFor } from './support/wait-for.ts';

/** Nice values of this process's threads, from /proc (Linux). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, nice field 19.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

async function scrapeDelivered(env: TestEnv): Promise<string | undefined> {
  const text = await (await fetch(`${env.app.url}/metrics`)).text();
  return /^avara_fhir_sync_deliveries_total\{target="fhir",outcome="delivered"\} (\d+)/m.exec(text)?.[1];
}

describe.runIf(process.platform === 'linux')('the delivery worker in its own thread', () => {
  let env: TestEnv | undefined;
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  it('delivers from a thread running WORKER_NICE lower, whose log lines and metrics reach the main thread, and which ends on stop', async () => {
    const own = getPriority();
    env = await startTestEnv({ env: { WORKER_NICE: '7' } });
    expect(threadNiceValues()).toContain(Math.min(19, own + 7));
    const signed = await env.sandbox.signReports(2);
    for (const report of signed) await env.waitForDelivery(report.reportId, 'delivered');
    await env.waitFor('the delivered counter', async () => (await scrapeDelivered(env!)) === '2');
    const workerLines = env.logText().split('\n').filter((line) => line.includes('"thread":"delivery"'));
    expect(workerLines.some((line) => line.includes('delivery finished'))).toBe(true);
    expect(workerLines.every((line) => line.includes('"service":"avara-fhir-sync"'))).toBe(true);
    await env.stop();
    env = undefined;
    expect(threadNiceValues()).not.toContain(Math.min(19, own + 7));
  });

  it('delivers in the main thread with WORKER_THREAD=false', async () => {
    const own = getPriority();
    env = await startTestEnv({ env: { WORKER_THREAD: 'false', WORKER_NICE: '9' } });
    const [signed] = await env.sandbox.signReports(1);
    await env.waitForDelivery(signed!.reportId, 'delivered');
    expect(threadNiceValues()).not.toContain(Math.min(19, own + 9));
    expect(env.logText()).not.toContain('"thread":"delivery"');
  });
});

describe('a delivery thread that dies unasked', () => {
  it('is logged and started again, and the new thread takes messages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'afs-thread-'));
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } }));
    const config = loadConfig({ AVARA_API_KEY: `sk_live_${'0'.repeat(32)}`, AVARA_WEBHOOK_KEY: `whsec_${Buffer.from('k'.repeat(24)).toString('base64')}`, FHIR_BASE_URL: 'http://127.0.0.1:9/fhir', SQLITE_PATH: join(dir, 'state.db'), ...SERVE_TEST_SETTINGS });
    const worker = await startWorkerThread({
      config, log, nice: 0,
      metrics: { attemptFinished: () => undefined, upstreamRequest: () => undefined },
      entry: new URL('./support/dying-worker-thread.ts', import.meta.url).href,
    });
    try {
      const until = (what: string, check: () => boolean) => waitFor(what, check, 15_000);
      await until('the restart notice', () => lines.some((line) => line.includes('starting it again')));
      expect(lines.some((line) => line.includes('delivery thread crashed') && line.includes('delivery code crashed'))).toBe(true);
      await until('the thread to run again', () => worker.isRunning());
      worker.wake();
      await until('the new thread to answer', () => lines.some((line) => line.includes('woken')));
    } finally {
      await worker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(worker.isRunning()).toBe(false);
  });
});
