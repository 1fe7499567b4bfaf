import { existsSync } from 'node:fs';
import { createAvaraClient } from '../avara/avara-client.ts';
import type { Study } from '../avara/schemas.ts';
import type { Config } from '../config/load-config.ts';
import { toSyncError } from '../errors.ts';
import { needsReportList, pollCutoffMs, splitAtCutoff, undeliveredCompletedReports } from '../deliveries/history-cutoff.ts';
import { sweepCompletedStudies } from '../deliveries/sweep-completed-studies.ts';
import { createThrottle } from '../deliveries/throttle.ts';
import { openStoreFromConfig, type StoreSettings } from '../store/open-store-from-config.ts';
import { FIRST_STARTED_KEY, type Store } from '../store/store.ts';
import { ok, warn, type CheckResult } from './doctor-check.ts';

// Doctor is a check, not a backfill: it stops counting here and says so. At the default
// 5 requests a second the walk takes at most about half a minute.
export const HISTORY_MAX_STUDIES = 3_000;
const MAX_REPORT_LISTS = 100;

interface HistoryCount {
  reports: number;
  studies: number;
  earliestMs: number | undefined;
  capped: boolean;
  /** Studies whose reports would have needed a list call after the budget was spent. */
  unexamined: number;
}

/**
 * `doctor`'s view of the history the poller will not send: completed reports signed before its
 * cutoff that are not delivered (to every target), counted by walking Avara's study list as the
 * poller does. They are what a first `serve` used to pour into the EHR; now a person decides.
 */
export async function checkHistory(config: Config, now: number): Promise<CheckResult> {
  const name = 'history before the first start';
  const store = await openExisting(config.store);
  try {
    // A file serve never migrated has no tables to look in; it counts as a database not started yet.
    const started = store !== undefined && (await readRecordedStart(store)) !== undefined ? store : undefined;
    const firstStart = started ? await started.settings.firstStart(now) : now;
    const cutoff = pollCutoffMs(firstStart, config.poll.sinceMs);
    const since = config.poll.sinceMs !== undefined && cutoff === config.poll.sinceMs ? `POLL_SINCE (${day(cutoff)})` : started ? `the first start (${new Date(cutoff).toISOString()})` : 'now (no first start recorded yet: the first serve records it)';
    let count: HistoryCount;
    try {
      count = await countHistory(config, started, cutoff);
    } catch (error) {
      return warn(name, `not counted: Avara answered ${toSyncError(error).code}`, 'run doctor again once Avara answers');
    }
    const scope = count.capped ? ` (counted in the first ${count.studies} studies; doctor stops at ${HISTORY_MAX_STUDIES.toLocaleString('en-US')})` : ` (all ${count.studies} completed studies)`;
    const unexamined = count.unexamined > 0 ? `; ${count.unexamined} older studies changed since were not examined (reading their report lists for sign times; doctor reads at most ${MAX_REPORT_LISTS})` : '';
    if (count.reports === 0) return ok(name, `no undelivered report signed before ${since}${scope}${unexamined}`);
    const atLeast = count.capped || count.unexamined > 0 ? 'at least ' : '';
    const from = day(count.earliestMs ?? cutoff);
    return warn(
      name,
      `${atLeast}${count.reports} signed reports from before ${since} are not delivered; the poller leaves them alone${scope}${unexamined}`,
      `if the EHR should have them, send them deliberately: avara-fhir-sync backfill --since ${from} --dry-run, then without --dry-run (serve delivers them); or set POLL_SINCE=${from}`,
    );
  } finally {
    await store?.close();
  }
}

async function countHistory(config: Config, store: Store | undefined, cutoff: number): Promise<HistoryCount> {
  const avara = createAvaraClient(config.avara);
  const throttle = createThrottle(config.poll.maxRequestsPerSecond);
  const count: HistoryCount = { reports: 0, studies: 0, earliestMs: undefined, capped: false, unexamined: 0 };
  let lists = 0;
  const visit = async (study: Study): Promise<void> => {
    count.studies += 1;
    const undelivered = store ? await undeliveredCompletedReports(store, study, config.poll.targets) : completedReports(study);
    if (undelivered.length === 0) return;
    if (needsReportList(study, cutoff) && lists >= MAX_REPORT_LISTS) {
      count.unexamined += 1;
      return;
    }
    const split = await splitAtCutoff(study, undelivered, cutoff, async (studyId) => {
      lists += 1;
      await throttle();
      return (await avara.listReports(studyId)).reports;
    });
    count.reports += split.historical.length;
    if (split.earliestHistoricalMs !== undefined) count.earliestMs = Math.min(split.earliestHistoricalMs, count.earliestMs ?? Infinity);
  };
  const stats = await sweepCompletedStudies(avara, { pageSize: 100, throttle, shouldStop: () => count.studies >= HISTORY_MAX_STUDIES }, visit);
  count.capped = !stats.completed;
  return count;
}

/** Doctor creates nothing: no file means no first start yet. */
async function openExisting(settings: StoreSettings): Promise<Store | undefined> {
  if (settings.databaseUrl === undefined && settings.sqlitePath !== ':memory:' && !existsSync(settings.sqlitePath)) return undefined;
  try {
    return await openStoreFromConfig(settings, { migrate: false });
  } catch {
    return undefined;
  }
}

/** undefined for a file serve never migrated (no settings table yet) or one without a record. */
async function readRecordedStart(store: Store): Promise<string | undefined> {
  try {
    return (await store.settings.read(FIRST_STARTED_KEY)) ?? (await hasDeliveries(store) ? 'derived' : undefined);
  } catch {
    return undefined;
  }
}

async function hasDeliveries(store: Store): Promise<boolean> {
  return Object.values(await store.deliveries.countByState()).some((n) => n > 0);
}

function completedReports(study: Study): string[] {
  return (study.reportIds ?? []).filter((r) => r.status === 'completed').map((r) => r.reportId);
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
