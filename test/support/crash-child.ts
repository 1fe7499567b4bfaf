/**
 * Test-only entry: the app exactly as `serve` starts it, plus crash hooks taken from the
 * environment. The CLI never passes hooks; only crash tests spawn this file.
 *
 *   CRASH_AT=after_inbox_commit|after_fhir_commit|mid_pdf_download   kill -9 at that point
 *   CRASH_AFTER=n        on the n-th time the point is reached (default 1)
 *   CRASH_RANDOM_MS=max  kill -9 at a random moment up to max ms after listening
 *   PRELOAD_FHIR_DEFINITIONS=true  index the FHIR definitions before listening (see below)
 *
 * Without any of them no hooks are passed, so the run takes the production code path.
 */
import { startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/create-logger.ts';
import { validateDeliveryBundle } from '../../src/fhir/validate-resource.ts';
import type { PipelineHooks, PipelinePoint } from '../../src/pipeline-hooks.ts';

const POINTS: PipelinePoint[] = ['after_inbox_commit', 'after_fhir_commit', 'mid_pdf_download'];

function crashNow(): never {
  // SIGKILL: no handlers, no flush, no finally blocks; what a power cut or OOM kill leaves.
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: SIGKILL was sent');
}

function hooksFromEnv(env: NodeJS.ProcessEnv): PipelineHooks | undefined {
  const point = env.CRASH_AT;
  if (!point) return undefined;
  if (!POINTS.includes(point as PipelinePoint)) throw new Error(`CRASH_AT must be one of ${POINTS.join(', ')}`);
  const after = Number(env.CRASH_AFTER ?? '1');
  if (!Number.isInteger(after) || after < 1) throw new Error('CRASH_AFTER must be a positive integer');
  let reached = 0;
  return {
    at(reachedPoint) {
      if (reachedPoint === point && ++reached >= after) crashNow();
    },
  };
}

const config = loadConfig(process.env);
if (process.env.PRELOAD_FHIR_DEFINITIONS === 'true') {
  // The app indexes the R4 definitions at its first validation, blocking its event loop for a
  // second or two. A child that did so before listening behaves like a long-running process,
  // so a kill shortly after start lands in intake, delivery and FHIR commits, not in indexing.
  validateDeliveryBundle({ resourceType: 'Bundle', type: 'transaction' });
}
const log = createLogger(config.logLevel);
await startApp(config, log, { hooks: hooksFromEnv(process.env) });
const randomMaxMs = Number(process.env.CRASH_RANDOM_MS ?? '0');
if (randomMaxMs > 0) setTimeout(crashNow, Math.random() * randomMaxMs);
