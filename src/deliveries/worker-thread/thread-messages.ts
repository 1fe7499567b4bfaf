import type { Config } from '../../config/load-config.ts';
import type { Upstream } from '../../metrics/create-metrics.ts';
import type { AttemptFinished } from '../../queue/run-job-loop.ts';

/** What the delivery thread is started with (structured-cloned: plain data only). */
export interface WorkerThreadData {
  /** The module the loader imports: the thread's main, as .ts (sources via tsx) or .js (built). */
  entry: string;
  config: Config;
  /** Added to the thread's nice value (Linux): deliveries give way to intake when CPU is short. */
  nice: number;
}

export type FromThread =
  | { kind: 'ready' }
  | { kind: 'finished'; finished: AttemptFinished }
  | { kind: 'upstream'; upstream: Upstream; operation: string; outcome: string; ms: number }
  /** One log line, already formatted and redacted by the thread's own logger. */
  | { kind: 'log'; line: string }
  | { kind: 'failed'; message: string }
  /** Stopped as asked: every attempt settled or given back, its database closed. */
  | { kind: 'stopped' };

/** A wake without a target wakes every target's loop. */
export type ToThread = { kind: 'wake'; target?: string } | { kind: 'stop' };
