import type { Logger } from 'pino';
import type { Config } from '../config/load-config.ts';
import { probeFhirServer } from './probe-fhir.ts';
import { probeHl7Engine } from './probe-hl7.ts';
import type { Reachability } from './reachability.ts';

/** The last look at one target, for readyz; `checkedAt` null until the first look ends. */
export type TargetStatus = (Reachability & { checkedAt: number }) | { reachable: null; checkedAt: null };

export interface TargetWatch {
  /** What the last round found, per target: read by readyz, which never calls out itself. */
  snapshot(): Record<string, TargetStatus>;
  /** One round now (all targets at once); a round still running is not doubled. */
  checkNow(): Promise<void>;
  stop(): void;
}

export interface TargetWatchSettings {
  targets: Config['delivery']['targets'];
  fhir: Config['fhir'];
  hl7: Config['delivery']['hl7'];
  intervalMs: number;
}

/**
 * Looks at every delivery target at start and every `intervalMs` after, in the background: start
 * is never held up by an EHR that does not answer, and a FHIR server that is down is a warning
 * with its cause (DNS, refused, timeout, TLS, auth, HTTP status) and host:port at start, not a
 * surprise at the first delivery. Warns when a target becomes unreachable (or is at start), says
 * when it answers again; ids, codes and hosts only.
 */
export function watchTargets(settings: TargetWatchSettings, log: Logger, now: () => number = Date.now): TargetWatch {
  const stopping = new AbortController();
  const last = new Map<string, TargetStatus>(settings.targets.map((target) => [target, { reachable: null, checkedAt: null }]));
  let round: Promise<void> | undefined;

  const probe = (target: string): Promise<Reachability> => {
    if (target === 'hl7v2' && settings.hl7) return probeHl7Engine(settings.hl7);
    return probeFhirServer(settings.fhir, stopping.signal);
  };

  async function lookAt(target: string): Promise<void> {
    const result = await probe(target).catch((error: unknown): Reachability => ({ reachable: false, cause: 'network', endpoint: '', detail: error instanceof Error ? error.name : 'error' }));
    if (stopping.signal.aborted) return;
    const before = last.get(target);
    last.set(target, { ...result, checkedAt: now() });
    const fields = { target, endpoint: result.endpoint, cause: result.cause, detail: result.detail };
    if (!result.reachable && before?.reachable !== false) log.warn(fields, before?.reachable === null ? 'delivery target unreachable at start; deliveries to it wait and retry' : 'delivery target unreachable');
    else if (result.reachable && before?.reachable === false) log.info(fields, 'delivery target reachable again');
    else if (result.reachable && before?.reachable === null) log.info(fields, 'delivery target reachable');
  }

  const checkNow = (): Promise<void> => {
    round ??= Promise.all(settings.targets.map(lookAt)).then(() => undefined).finally(() => (round = undefined));
    return round;
  };
  void checkNow();
  const timer = setInterval(() => void checkNow(), settings.intervalMs);
  timer.unref();

  return {
    snapshot: () => Object.fromEntries(last),
    checkNow,
    stop() {
      clearInterval(timer);
      stopping.abort();
    },
  };
}
