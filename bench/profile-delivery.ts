import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild } from './child-rpc.ts';
import { measureProduct, type SandboxInfo } from './stages/delivery-product.ts';

// npx tsx bench/profile-delivery.ts [reports=500] [dir=/tmp/afs-profile]
// One product delivery run with --cpu-prof on serve, the FHIR store and the sandbox: where the
// CPU goes per process (open the .cpuprofile files in Chrome DevTools or speedscope).
const reports = Number(process.argv[2] ?? 500);
const dir = process.argv[3] ?? '/tmp/afs-profile';
const profileInto = (name: string) => `--cpu-prof --cpu-prof-dir=${dir}/${name}`;

process.env.BENCH_CHILD_NODE_ARGS = profileInto('sandbox');
const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts');
try {
  const refs = await sandbox.call<SignedRef[]>('sign', reports);
  process.env.BENCH_SERVE_NODE_ARGS = profileInto('serve');
  process.env.BENCH_CHILD_NODE_ARGS = profileInto('fhir-store');
  const run = await measureProduct(sandbox, refs.map((r) => r.reportId), { WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '4' });
  process.stdout.write(`${JSON.stringify({ reportsPerSec: run.perSec, cpuMsPerReport: run.cpuMsPerReport, breakdownMs: run.breakdownMs }, null, 2)}\nprofiles in ${dir}/{serve,fhir-store,sandbox}\n`);
} finally {
  await sandbox.stop();
}
