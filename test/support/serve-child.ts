import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from './wait-for.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The CLI's `serve`, or test/support/replica-child.ts (startApp with test-only delivery settings). */
export const SERVE_ENTRIES = {
  serve: [join(ROOT, 'src/cli-entry.mjs'), 'serve'],
  replica: ['--import', 'tsx', join(ROOT, 'test/support/replica-child.ts')],
};

export interface ServeChild {
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Every line written to stdout and stderr so far. */
  log: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait for the exit (nothing if it already exited). */
  stop(): Promise<void>;
}

/** Spawns serve with `env` on `port` and resolves once it logs that it is listening. */
export async function startServeChild(env: Record<string, string>, port: number, entry: string[] = SERVE_ENTRIES.serve): Promise<ServeChild> {
  const child = spawn(process.execPath, entry, { env: { ...env, HOST: '127.0.0.1', PORT: String(port) }, cwd: ROOT });
  const log: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => log.push(line));
  createInterface({ input: child.stderr }).on('line', (line) => log.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const serve: ServeChild = {
    url: `http://127.0.0.1:${port}`,
    child,
    log,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
  const seen = await waitFor('serve listening', () => log.some((line) => line.includes('avara-fhir-sync listening')) || (child.exitCode !== null && 'exited'), 60_000)
    .catch(async (error: unknown) => {
      child.kill('SIGKILL');
      throw error;
    });
  if (seen === 'exited') throw new Error(`serve exited before listening:\n${log.join('\n')}`);
  return serve;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
