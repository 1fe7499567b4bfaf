import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stopChild } from './child-rpc.ts';

export interface ServeProcess {
  url: string;
  pid: number;
  /** Resident set size now, from /proc (Linux). */
  rssMiB(): number;
  stop(): Promise<void>;
}

const CLI_ENTRY = fileURLToPath(new URL('../src/cli-entry.mjs', import.meta.url));

/**
 * What serve will not default, for the embedded FHIR store the benchmarks deliver to: it starts
 * empty and is its own patient index (create); the sandbox writes study times in UTC.
 */
export const BENCH_MAPPING_SETTINGS: Readonly<Record<string, string>> = {
  PATIENT_MODE: 'create', MRN_SYSTEM: 'urn:avara-fhir-sync:bench:mrn', STUDY_TIME_ZONE: 'UTC',
};

/** `avara-fhir-sync serve` as a real child process, configured through its environment only. */
export function startServe(env: Record<string, string>): Promise<ServeProcess> {
  // BENCH_SERVE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the product under load.
  const nodeArgs = (process.env.BENCH_SERVE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // BENCH_SERVE_ENV="WORKER_THREAD=false,MALLOC_ARENA_MAX=2" compares settings under the same load.
  const extraEnv = Object.fromEntries((process.env.BENCH_SERVE_ENV ?? '').split(',').filter(Boolean).map((pair) => pair.split('=') as [string, string]));
  const child = spawn(process.execPath, [...nodeArgs, CLI_ENTRY, 'serve'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', POLL_INTERVAL_SECONDS: '0', ...BENCH_MAPPING_SETTINGS, ...env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    // Needs LOG_LEVEL info or lower: the listening line is how we learn the port.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('serve did not log that it listens within 180 s'));
    }, 180_000);
    // Every log line is read (a full pipe would stall the child); only the listening line matters.
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!line.includes('avara-fhir-sync listening')) return;
      const address = (JSON.parse(line) as { address: string }).address;
      clearTimeout(timer);
      // From now on the output is drained, not split into lines: this process is also the load
      // generator, on serve's core, and must not spend a line's parsing per webhook serve logs.
      lines.close();
      child.stdout.on('data', () => undefined);
      child.stdout.resume();
      resolve({ url: address, pid: child.pid!, rssMiB: () => rssMiB(child.pid!), stop: () => stopChild(child) });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
  });
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}
