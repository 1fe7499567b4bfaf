import { cpus, loadavg, totalmem, type as osType, release } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1, 5 and 15 minute load averages at the start and at the end of the run. */
  loadAvgStart: number[];
  loadAvgEnd?: number[];
}

export function describeMachine(): Machine {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    loadAvgStart: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}
