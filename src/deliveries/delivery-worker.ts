import type { Logger } from 'pino';
import type { User } from '../avara/schemas.ts';
import type { Config } from '../config/load-config.ts';
import type { FhirClient } from '../fhir/fhir-client.ts';
import type { PipelineHooks } from '../pipeline-hooks.ts';
import { startJobLoop, type AttemptFinished, type JobLoop } from '../queue/run-job-loop.ts';
import type { DeliveryEnding, Lease, Store } from '../store/store.ts';
import type { AvaraReader } from './avara-reader.ts';
import type { DeliveryTarget, TargetDeps } from './targets/delivery-target.ts';
import { createFhirTarget } from './targets/fhir/fhir-target.ts';
import { createFhirDocumentsTarget } from './targets/fhir-documents/fhir-documents-target.ts';
import { createHl7v2Target } from './targets/hl7v2/hl7v2-target.ts';

/** The delivery slice of the configuration, as it is. */
export type WorkerSettings = Config['delivery'];

export interface WorkerDeps {
  store: Store;
  avara: AvaraReader;
  fhir: FhirClient;
  log: Logger;
  settings: WorkerSettings;
  now?: () => number;
  hooks?: PipelineHooks;
  /** Told about every finished attempt (metrics). */
  onFinished?: (finished: AttemptFinished) => void;
  /** Targets other than `fhir`, built by the caller (they need their own settings and connections). */
  targets?: Partial<Record<string, (deps: TargetDeps) => DeliveryTarget>>;
}

export interface Worker extends JobLoop {
  /** Wakes one target's loop only (a replica committed work for it); unknown targets are ignored. */
  wakeTarget(target: string): void;
}

/**
 * The delivery worker: one loop per delivery target on the leased-job queue, so a target that is
 * down (or refuses our credentials) delays only its own deliveries.
 */
export function startWorker(deps: WorkerDeps): Worker {
  const now = deps.now ?? Date.now;
  const avara = deps.hooks ? withPdfDownloadHook(deps.avara, deps.hooks) : deps.avara;
  const shared: TargetDeps = {
    store: deps.store, log: deps.log, avara, fhir: deps.fhir, settings: deps.settings, now, userCache: new Map<string, User>(),
    ...(deps.hooks ? { hooks: deps.hooks } : {}), ...(deps.onFinished ? { onFinished: deps.onFinished } : {}),
  };
  const hl7 = deps.settings.hl7;
  const builders: Record<string, ((deps: TargetDeps) => DeliveryTarget) | undefined> = {
    fhir: createFhirTarget,
    'fhir-documents': (shared: TargetDeps) => createFhirDocumentsTarget(shared, deps.settings.documents),
    ...(hl7 ? { hl7v2: (shared: TargetDeps) => createHl7v2Target(shared, hl7) } : {}),
    ...deps.targets,
  };
  const loops = deps.settings.targets.map((name) => {
    const build = builders[name];
    if (!build) throw new Error(`delivery target ${name} is configured but not built into this process`);
    const target = build(shared);
    const loop = startJobLoop<Lease, string, DeliveryEnding>(
      {
        queue: deps.store.deliveryQueue(name),
        noun: `delivery (${name})`,
        logFields: (lease) => ({ reportId: lease.reportId, studyId: lease.studyId, target: name }),
        // Locks are per target: an addendum to one target waits for its original there only.
        attempt: (context) => target.attempt({ ...context, acquireLocks: (keys) => context.acquireLocks(keys.map((key) => `${name}:${key}`)) }),
        onFinished: (finished) => deps.onFinished?.({ target: name, ...finished }),
      },
      { log: deps.log, settings: deps.settings, now },
    );
    return { name, loop, target };
  });
  return {
    wake: () => loops.forEach(({ loop }) => loop.wake()),
    wakeTarget: (name) => loops.find((entry) => entry.name === name)?.loop.wake(),
    isRunning: () => loops.every(({ loop }) => loop.isRunning()),
    async stop() {
      await Promise.all(loops.map(({ loop }) => loop.stop()));
      await Promise.all(loops.map(({ target }) => target.close?.()));
    },
  };
}

function withPdfDownloadHook(avara: AvaraReader, hooks: PipelineHooks): AvaraReader {
  return {
    ...avara,
    downloadPdf(url) {
      const download = avara.downloadPdf(url);
      hooks.at('mid_pdf_download');
      return download;
    },
  };
}
