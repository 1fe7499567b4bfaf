// A worker thread starts without the loader its parent may use: sources (.ts) need tsx
// registered here first; a built entry (.js) is imported as it is.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
