import { join } from 'node:path';
import { createAvaraClient } from '../../src/avara/avara-client.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { BENCH_MAPPING_SETTINGS } from '../serve-process.ts';
import { createLogger } from '../../src/create-logger.ts';
import { openStoreFromConfig } from '../../src/store/open-store-from-config.ts';
import { startPoller } from '../../src/deliveries/poller.ts';
import { forkRpcChild } from '../child-rpc.ts';
import { progress } from '../figures.ts';
import { withTempDir } from './intake-stage.ts';
import type { SandboxInfo } from './delivery-product.ts';

export interface PollerFigures {
  studies: number;
  firstSweep: { requests: number; enqueued: number };
  /** Requests of each later sweep over the same, unchanged studies, by endpoint. */
  unchangedSweeps: Record<string, number>[];
  requestsForUnchangedStudies: number;
  perStudyRequests: number;
}

const LIST = 'GET /v1/autoScribe/studies';

/**
 * The product's poller (its own module, default settings, no worker beside it) over a sandbox of
 * `studies` completed studies: a first sweep enqueues them all (POLL_SINCE reaches back to the
 * seeded history, signed before this database's first start), later sweeps should only page.
 */
export async function measurePoller(studies: number, unchangedSweeps: number): Promise<PollerFigures> {
  const sandbox = await forkRpcChild<SandboxInfo>('sandbox-child.ts', { BENCH_SEED: '55', BENCH_STUDIES: String(studies), BENCH_SMALL_PDFS: '1' });
  try {
    return await withTempDir(async (dir) => {
      const config = loadConfig({ AVARA_BASE_URL: sandbox.info.baseUrl, AVARA_API_KEY: sandbox.info.apiKey, AVARA_WEBHOOK_KEY: sandbox.info.webhookKey, FHIR_BASE_URL: 'http://127.0.0.1:9/fhir', POLL_INTERVAL_SECONDS: '0', POLL_SINCE: '2000-01-01', SQLITE_PATH: join(dir, 'poller.db'), ...BENCH_MAPPING_SETTINGS });
      const store = await openStoreFromConfig(config.store);
      const poller = startPoller({ store, avara: createAvaraClient(config.avara), log: createLogger('warn'), settings: config.poll });
      try {
        await sandbox.call('resetCounts');
        const first = await poller.sweepNow();
        const firstCounts = await sandbox.call<Record<string, number>>('requestCounts');
        progress(`poller: first sweep of ${studies} studies, ${total(firstCounts)} requests, ${first.enqueued} enqueued`);
        const sweeps: Record<string, number>[] = [];
        for (let i = 0; i < unchangedSweeps; i++) {
          await sandbox.call('resetCounts');
          const outcome = await poller.sweepNow();
          if (!outcome.completed) throw new Error('an unchanged sweep did not complete');
          sweeps.push(await sandbox.call<Record<string, number>>('requestCounts'));
        }
        progress(`poller: unchanged sweeps ${sweeps.map(total).join(', ')} requests`);
        const last = sweeps.at(-1)!;
        return {
          studies,
          firstSweep: { requests: total(firstCounts), enqueued: first.enqueued },
          unchangedSweeps: sweeps,
          requestsForUnchangedStudies: total(last),
          perStudyRequests: total(last) - (last[LIST] ?? 0),
        };
      } finally {
        await poller.stop();
        await store.close();
      }
    });
  } finally {
    await sandbox.stop();
  }
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
