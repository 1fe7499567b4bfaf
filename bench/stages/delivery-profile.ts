import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RpcChild } from '../child-rpc.ts';
import { addStageTimes, timeByStage, type CpuProfile } from '../cpu-profile-stages.ts';
import { measureProduct, type SandboxInfo } from './delivery-product.ts';

// Sampled every 250 µs and each sample counted for at most two intervals: V8 samples on a wall
// clock, and on the shared core a thread is preempted at every socket write or message that
// wakes the sandbox or serve's main thread; the first sample after it stands for the whole wait.
// At the default 1 ms that wait passed for CPU at each preemption point (socket writes).
const INTERVAL_US = 250;

/**
 * One product run with `--cpu-prof` on serve (a profile per thread: main, delivery thread and
 * their module-loader threads), summed by stage over the delivery window only, so startup and
 * shutdown do not count. Milliseconds of profile time per delivered report.
 */
export async function profileServeByStage(sandbox: RpcChild<SandboxInfo>, reportIds: string[], env: Record<string, string>): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'afs-bench-prof-'));
  const before = process.env.BENCH_SERVE_NODE_ARGS;
  process.env.BENCH_SERVE_NODE_ARGS = `${before ?? ''} --cpu-prof --cpu-prof-interval=${INTERVAL_US} --cpu-prof-dir=${dir}`;
  try {
    const run = await measureProduct(sandbox, reportIds, env);
    const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    if (profiles.length === 0) throw new Error('serve wrote no CPU profile');
    const total = addStageTimes(profiles.map((file) => {
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      return timeByStage(profile, { window: run.windowUs, maxSampleUs: 2 * INTERVAL_US });
    }));
    return Object.fromEntries(Object.entries(total).map(([stage, ms]) => [stage, ms / reportIds.length]));
  } finally {
    if (before === undefined) delete process.env.BENCH_SERVE_NODE_ARGS;
    else process.env.BENCH_SERVE_NODE_ARGS = before;
    rmSync(dir, { recursive: true, force: true });
  }
}
