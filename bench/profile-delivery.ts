import type { SignedRef } from '../src/standins/avara-sandbox/sandbox-types.ts';
import { forkRpcChild } from './child-rpc.ts';
import { pinBenchToCores } from './pin-cores.ts';
import { measureProduct, type SandboxInfo } from './stages/delivery-product.ts';
import { measureHl7Product } from './stages/hl7-product.ts';

// npx tsx bench/profile-delivery.ts [reports=500] [dir=/tmp/afs-profile] [target=fhir|hl7v2]
// One product delivery run with --cpu-prof on serve (one profile per thread: the delivery thread
// maps and sends), the receiving side (the FHIR store or the MLLP receiver) and the sandbox:
// where the CPU goes per process (open the .cpuprofile files in Chrome DevTools or speedscope).
const reports = Number(process.argv[2] ?? 500);
const dir = process.argv[3] ?? '/tmp/afs-profile';
const target = process.argv[4] === 'hl7v2' ? 'hl7v2' : 'fhir';
const receiving = target === 'hl7v2' ? 'receiver' : 'fhir-store';
const profileInto = (name: string) => `--cpu-prof --cpu-prof-dir=${dir}/${name}`;

// Pinned as `npm run bench` pins: the receiving side alone on core 1, everything else on core 0.
process.stderr.write(`cores: ${pinBenchToCores().note}\n`);
process.env.BENCH_CHILD_NODE_ARGS = profileInto('sandbox');
const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts');
try {
  const refs = await sandbox.call<SignedRef[]>('sign', reports);
  process.env.BENCH_SERVE_NODE_ARGS = profileInto('serve');
  process.env.BENCH_CHILD_NODE_ARGS = profileInto(receiving);
  const settings = { WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '4' };
  const ids = refs.map((r) => r.reportId);
  const run = target === 'hl7v2' ? await measureHl7Product(sandbox, ids, settings) : await measureProduct(sandbox, ids, settings);
  process.stdout.write(`${JSON.stringify({ target, reportsPerSec: run.perSec, cpuMsPerReport: run.cpuMsPerReport, breakdownMs: run.breakdownMs }, null, 2)}\nprofiles in ${dir}/{serve,${receiving},sandbox}\n`);
} finally {
  await sandbox.stop();
}
