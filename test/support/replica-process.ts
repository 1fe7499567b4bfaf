import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait-for.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const REPLICA_ENTRIES = {
  serve: [join(ROOT, 'src/cli-entry.mjs'), 'serve'],
  // test/support/crash-child.ts: `serve` plus the CRASH_* hooks.
  'crash-child': ['--import', 'tsx', join(ROOT, 'test/support/crash-child.ts')],
};

/** One run of a `serve` replica as a real child process; a restart is a new run on the same port. */
export interface ReplicaRun {
  name: string;
  url: string;
  child: ChildProcessWithoutNullStreams;
  /** Every line it wrote to stdout and stderr, in order. */
  lines: string[];
  /** When the test process saw it exit (unix ms), undefined while it runs. */
  exitedAt(): number | undefined;
  exited: Promise<void>;
  /** SIGTERM and wait: a graceful stop. */
  stop(): Promise<void>;
}

/** Starts one replica with `env` (the caller's full environment for it) and waits until it listens. */
export async function startReplica(name: string, port: number, env: Record<string, string>, entry: keyof typeof REPLICA_ENTRIES = 'serve'): Promise<ReplicaRun> {
  const child = spawn(process.execPath, REPLICA_ENTRIES[entry], { cwd: ROOT, env: { ...env, PORT: String(port) } });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
  createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));
  let exitedAt: number | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    exitedAt = Date.now();
    resolve();
  }));
  const run: ReplicaRun = {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    lines,
    exitedAt: () => exitedAt,
    exited,
    async stop() {
      if (exitedAt === undefined) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
  const seen = await waitFor(`${name} listening`, () =>
    lines.some((line) => line.includes('avara-fhir-sync listening')) || (exitedAt !== undefined && `exited:\n${lines.join('\n')}`), 90_000);
  if (typeof seen === 'string') throw new Error(`${name} ${seen}`);
  return run;
}
