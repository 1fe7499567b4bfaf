import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../create-logger.ts';
import { loadR4Definitions } from '../../fhir/validate-resource.ts';
import { createInstrumentedClients, type UpstreamMetrics } from '../../metrics/instrument-clients.ts';
import { openStoreFromConfig } from '../../store/open-store-from-config.ts';
import { startWorker } from '../delivery-worker.ts';
import type { FromThread, ToThread, WorkerThreadData } from './thread-messages.ts';

// The delivery worker's own thread: its own event loop, SQLite connection and HTTP clients, so
// a backlog being delivered does not queue in front of webhooks on the main thread.
const port = parentPort!;
const { config, nice } = workerData as WorkerThreadData;
const send = (message: FromThread) => port.postMessage(message);

lowerOwnPriority(nice);
loadR4Definitions();
// Lines go to the parent, which writes them where its own log goes (one stream, one order).
const log = createLogger(config.logLevel, { write: (line: string) => send({ kind: 'log', line }) }).child({ thread: 'delivery' });
// serve migrated before starting this thread.
const store = await openStoreFromConfig(config.store, { migrate: false });
const metrics: UpstreamMetrics = { upstreamRequest: (upstream, operation, outcome, ms) => send({ kind: 'upstream', upstream, operation, outcome, ms }) };
const worker = startWorker({
  store,
  ...createInstrumentedClients(config, metrics),
  log,
  settings: config.delivery,
  onFinished: (finished) => send({ kind: 'finished', finished }),
});

port.on('message', (message: ToThread) => {
  if (message.kind === 'wake') {
    if (message.target === undefined) worker.wake();
    else worker.wakeTarget(message.target);
  } else void stop();
});
send({ kind: 'ready' });

async function stop(): Promise<void> {
  try {
    await worker.stop();
  } catch (error) {
    send({ kind: 'failed', message: (error as Error).message });
  } finally {
    await store.close();
    // Keep-alive sockets would hold this thread open; the parent ends it on this message.
    send({ kind: 'stopped' });
  }
}

function lowerOwnPriority(by: number): void {
  if (by <= 0 || process.platform !== 'linux') return;
  try {
    // On Linux a thread has its own nice value, set through its thread id.
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    setPriority(threadId, Math.min(19, getPriority(threadId) + by));
  } catch {
    // Not permitted or not available: deliveries then compete with intake as equals.
  }
}
