/**
 * A stand-in for the delivery thread's main module (test-only): ready at once, then, on its first
 * life only, an uncaught exception, as a crash in delivery code would be. Later lives answer wake
 * with a log line and stop as asked.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { ToThread, WorkerThreadData } from '../../src/deliveries/worker-thread/thread-messages.ts';

const port = parentPort!;
const marker = `${(workerData as WorkerThreadData).config.store.sqlitePath}.died-once`;
port.on('message', (message: ToThread) => {
  if (message.kind === 'wake') port.postMessage({ kind: 'log', line: '{"msg":"woken"}\n' });
  else port.postMessage({ kind: 'stopped' });
});
port.postMessage({ kind: 'ready' });
if (!existsSync(marker)) {
  writeFileSync(marker, '');
  setTimeout(() => {
    throw new Error('delivery code crashed');
  }, 20);
}
