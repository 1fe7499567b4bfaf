import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild } from './child-rpc.ts';
import type { SandboxInfo } from './stages/delivery-product.ts';
import { measureHl7Product } from './stages/hl7-product.ts';

// npx tsx bench/profile-hl7.ts [reports=400] [dir=/tmp/afs-profile-hl7]
// One hl7v2 delivery run (DELIVERY_TARGETS=hl7v2) with --cpu-prof on serve (one profile per
// thread: the delivery thread is the one that builds and sends), the receiver and the sandbox.
const reports = Number(process.argv[2] ?? 400);
const dir = process.argv[3] ?? '/tmp/afs-profile-hl7';
const profileInto = (name: string) => `--cpu-prof --cpu-prof-dir=${dir}/${name}`;

process.env.BENCH_CHILD_NODE_ARGS = profileInto('sandbox');
const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts');
try {
  const refs = await sandbox.call<SignedRef[]>('sign', reports);
  process.env.BENCH_SERVE_NODE_ARGS = profileInto('serve');
  process.env.BENCH_CHILD_NODE_ARGS = profileInto('receiver');
  const run = await measureHl7Product(sandbox, refs.map((r) => r.reportId), { WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '4' });
  process.stdout.write(`${JSON.stringify({ reportsPerSec: run.perSec, cpuMsPerReport: run.cpuMsPerReport, breakdownMs: run.breakdownMs, receiver: run.receiver }, null, 2)}\nprofiles in ${dir}/{serve,receiver,sandbox}\n`);
} finally {
  await sandbox.stop();
}
