import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

/** Where the EHR stand-ins (the FHIR store, the MLLP receiver) run: a core of their own. */
export const EHR_CORE = 1;
/** Where everything else runs: serve, the sandbox, the load generators, this process. */
export const OTHERS_CORE = 0;

export interface CorePinning {
  pinned: boolean;
  /** What was pinned where, or why nothing was. */
  note: string;
}

/**
 * Pins this process, all its threads, to OTHERS_CORE, so every child forked or spawned from now
 * on starts there too, and tells the EHR stand-in children (BENCH_EHR_CORE) to move to EHR_CORE.
 * An EHR's server has cores of its own: sharing them with serve mixed two questions in one figure.
 */
export function pinBenchToCores(): CorePinning {
  if (process.platform !== 'linux') return unpinned('not Linux');
  if (cpus().length <= EHR_CORE) return unpinned(`${cpus().length} core(s), need ${EHR_CORE + 1}`);
  const failure = pinToCore(process.pid, OTHERS_CORE);
  if (failure) return unpinned(failure);
  process.env.BENCH_EHR_CORE = String(EHR_CORE);
  return { pinned: true, note: `taskset: FHIR store (and MLLP receiver) alone on core ${EHR_CORE}; serve, sandbox, load generators on core ${OTHERS_CORE}` };
}

/** Pins every thread of `pid` to `core` (util-linux `taskset`); threads started later inherit it. Returns why not, or undefined. */
export function pinToCore(pid: number, core: number): string | undefined {
  const result = spawnSync('taskset', ['--all-tasks', '--pid', '--cpu-list', String(core), String(pid)], { encoding: 'utf8' });
  if (result.error) return `taskset not available (${(result.error as NodeJS.ErrnoException).code ?? result.error.message})`;
  if (result.status !== 0) return `taskset failed: ${result.stderr.trim()}`;
  return undefined;
}

/** For an EHR stand-in child: moves itself to BENCH_EHR_CORE when the parent pinned the run. */
export function pinSelfAsEhr(): void {
  const core = process.env.BENCH_EHR_CORE;
  if (core === undefined) return;
  const failure = pinToCore(process.pid, Number(core));
  if (failure) throw new Error(`could not pin the EHR stand-in to core ${core}: ${failure}`);
}

function unpinned(reason: string): CorePinning {
  return { pinned: false, note: `NOT pinned (${reason}): every process shares every core` };
}
