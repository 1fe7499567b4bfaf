import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RpcChild } from '../child-rpc.ts';
import { addStageTimes, timeByStage, type CpuProfile } from '../cpu-profile-stages.ts';
import { measureProduct, type SandboxInfo } from './delivery-product.ts';

/**
 * One product run with `--cpu-prof` on serve (a profile per thread: main, delivery thread and
 * their module-loader threads), summed by stage over the delivery window only, so startup and
 * shutdown do not count. Milliseconds of profile time per delivered report.
 */
export async function profileServeByStage(sandbox: RpcChild<SandboxInfo>, reportIds: string[], env: Record<string, string>): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'afs-bench-prof-'));
  const before = process.env.BENCH_SERVE_NODE_ARGS;
  process.env.BENCH_SERVE_NODE_ARGS = `${before ?? ''} --cpu-prof --cpu-prof-dir=${dir}`;
  try {
    const run = await measureProduct(sandbox, reportIds, env);
    const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    if (profiles.length === 0) throw new Error('serve wrote no CPU profile');
    const total = addStageTimes(profiles.map((file) => {
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
      return timeByStage(profile, { window: run.windowUs });
    }));
    return Object.fromEntries(Object.entries(total).map(([stage, ms]) => [stage, ms / reportIds.length]));
  } finally {
    if (before === undefined) delete process.env.BENCH_SERVE_NODE_ARGS;
    else process.env.BENCH_SERVE_NODE_ARGS = before;
    rmSync(dir, { recursive: true, force: true });
  }
}
