import type { Logger } from 'pino';
import pino from 'pino';
import { Worker as Thread } from 'node:worker_threads';
import { atMostEvery } from '../../queue/at-most-every.ts';
import { oncePerTurn } from '../../queue/once-per-turn.ts';
import type { Config } from '../../config/load-config.ts';
import type { Metrics } from '../../metrics/create-metrics.ts';
import type { Worker } from '../delivery-worker.ts';
import type { FromThread, ToThread, WorkerThreadData } from './thread-messages.ts';

export interface WorkerThreadDeps {
  config: Config;
  log: Logger;
  metrics: Pick<Metrics, 'attemptFinished' | 'upstreamRequest'>;
  nice: number;
  /** The thread's main module; tests give one of their own to see how a dying thread is handled. */
  entry?: string;
}

// A thread that died unasked (a crash in delivery code) is started again: its leases expire and
// the jobs run again, and one that keeps killing it is dead-lettered (LEASE_EXPIRIES_PER_ATTEMPT).
const RESTART_DELAY_MS = 1_000;
const STOP_MARGIN_MS = 5_000;
// A delivery takes seconds (Avara, the PDF, the EHR): a few ms more before the thread looks are
// nothing to it, and at 1,000 webhooks a second they spare ~4 of every 5 messages.
const WAKE_INTERVAL_MS = 5;

const LOADER = new URL('./load-entry.mjs', import.meta.url);
// Sources run through tsx (this file is .ts); a build runs the compiled .js next to it.
const ENTRY = new URL(`./run-worker-thread.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href;

/**
 * The delivery worker in its own thread (see run-worker-thread.ts), behind the same interface as
 * the in-process one. Resolves once the thread runs.
 */
export async function startWorkerThread(deps: WorkerThreadDeps): Promise<Worker> {
  const writeLine = lineWriter(deps.log);
  let stopping = false;
  let thread: Thread;
  let running = false;
  let exited: Promise<void> = Promise.resolve();

  function spawn(): Promise<void> {
    const data: WorkerThreadData = { entry: deps.entry ?? ENTRY, config: deps.config, nice: deps.nice };
    // A built entry (.js) runs as it is; sources go through the loader, which registers tsx.
    thread = new Thread(data.entry.endsWith('.ts') ? LOADER : new URL(data.entry), { workerData: data });
    return new Promise((resolve, reject) => {
      thread.on('message', (message: FromThread) => {
        switch (message.kind) {
          case 'ready':
            running = true;
            // Restarted while stop() was already waiting: it stops at once.
            if (stopping) thread.postMessage({ kind: 'stop' } satisfies ToThread);
            resolve();
            return;
          case 'finished':
            deps.metrics.attemptFinished(message.finished);
            return;
          case 'upstream':
            deps.metrics.upstreamRequest(message.upstream, message.operation, message.outcome, message.ms);
            return;
          case 'log':
            writeLine(message.line);
            return;
          case 'failed':
            deps.log.error({ err: message.message }, 'delivery thread could not stop cleanly');
            return;
          case 'stopped':
            void thread.terminate();
        }
      });
      thread.on('error', (error) => deps.log.fatal({ err: error }, 'delivery thread crashed'));
      exited = new Promise((done) => {
        thread.once('exit', (code) => {
          const wasReady = running;
          running = false;
          done();
          if (!wasReady) reject(new Error(`the delivery thread exited with ${code} before it was ready`));
          else if (!stopping) restartLater(code);
        });
      });
    });
  }

  function restartLater(code: number): void {
    deps.log.error({ exitCode: code, restartInMs: RESTART_DELAY_MS }, 'delivery thread stopped unasked; starting it again');
    setTimeout(() => {
      if (stopping) return;
      spawn().catch((error: unknown) => {
        deps.log.fatal({ err: error }, 'delivery thread could not be started again');
        restartLater(1);
      });
    }, RESTART_DELAY_MS).unref();
  }

  const post = (message: ToThread) => {
    if (running) thread.postMessage(message);
  };
  // One message per turn of the event loop, however many webhooks arrived in it, and under load
  // at most one per WAKE_INTERVAL_MS: the thread's job loop remembers a wake that arrives while
  // it looks, so one wake covers every webhook stored before it was posted.
  const wake = atMostEvery(WAKE_INTERVAL_MS, () => post({ kind: 'wake' }));
  const targetsToWake = new Set<string>();
  const wakeTargets = oncePerTurn(() => {
    for (const target of targetsToWake) post({ kind: 'wake', target });
    targetsToWake.clear();
  });
  await spawn();
  return {
    wake,
    wakeTarget(target) {
      targetsToWake.add(target);
      wakeTargets();
    },
    isRunning: () => running && !stopping,
    async stop() {
      stopping = true;
      post({ kind: 'stop' });
      // The thread gives unfinished leases back after the grace period; should it hang beyond
      // that, end it: its leases expire and the jobs run again.
      const deadline = setTimeout(() => void thread.terminate(), deps.config.delivery.shutdownGraceMs + STOP_MARGIN_MS);
      await exited;
      clearTimeout(deadline);
    },
  };
}

/** Writes a finished log line to the stream behind `log`, so both threads' lines land in one place. */
function lineWriter(log: Logger): (line: string) => void {
  const stream = (log as unknown as Record<symbol, { write(line: string): void } | undefined>)[pino.symbols.streamSym];
  return stream ? (line) => stream.write(line) : (line) => process.stdout.write(line);
}
