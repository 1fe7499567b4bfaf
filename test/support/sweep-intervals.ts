import type { ReplicaRun } from './replica-process.ts';

/** One poller sweep as its replica logged it: from 'poll sweep started' to its end line. */
export interface SweepInterval {
  replica: string;
  sweep: string;
  startedAt: number;
  endedAt: number;
  /** `killed`: no end line; the run's exit stands in for it. */
  end: 'finished' | 'failed' | 'killed';
}

type SweepLine = { msg?: string; sweep?: string; time?: string };

/**
 * The sweeps of one run, from its log. The poller writes both lines while it holds the sweep lock,
 * so two intervals that overlap mean two sweeps ran at once. A run must have exited (stopped or
 * killed) so that every sweep has an end.
 */
export function sweepIntervals(run: ReplicaRun): SweepInterval[] {
  const open = new Map<string, number>();
  const intervals: SweepInterval[] = [];
  for (const line of run.lines) {
    if (!line.includes('"sweep"')) continue;
    const entry = JSON.parse(line) as SweepLine;
    if (!entry.sweep || !entry.time) continue;
    const at = Date.parse(entry.time);
    if (entry.msg === 'poll sweep started') open.set(entry.sweep, at);
    const end = entry.msg === 'poll sweep finished' ? 'finished' : entry.msg?.startsWith('poll sweep failed') ? 'failed' : undefined;
    const startedAt = open.get(entry.sweep);
    if (end && startedAt !== undefined) {
      intervals.push({ replica: run.name, sweep: entry.sweep, startedAt, endedAt: at, end });
      open.delete(entry.sweep);
    }
  }
  const exitedAt = run.exitedAt();
  if (open.size > 0 && exitedAt === undefined) throw new Error(`${run.name} is still running: its open sweeps have no end yet`);
  for (const [sweep, startedAt] of open) intervals.push({ replica: run.name, sweep, startedAt, endedAt: exitedAt!, end: 'killed' });
  return intervals;
}

/** Pairs of sweeps that ran at the same time (a later one started before an earlier one ended). */
export function overlappingSweeps(intervals: SweepInterval[]): [SweepInterval, SweepInterval][] {
  const sorted = [...intervals].sort((a, b) => a.startedAt - b.startedAt);
  const overlaps: [SweepInterval, SweepInterval][] = [];
  for (let i = 0; i < sorted.length; i += 1) {
    for (let j = i + 1; j < sorted.length && sorted[j]!.startedAt < sorted[i]!.endedAt; j += 1) overlaps.push([sorted[i]!, sorted[j]!]);
  }
  return overlaps;
}
