import type { AvaraClient } from '../avara/avara-client.ts';
import type { Study } from '../avara/schemas.ts';
import { SyncError } from '../errors.ts';

// avara-api.md §6.8: no date filter and no sort order, so only a full sweep is complete.
const COMPLETED = { studyReportStatus: ['completed', 'addendum_active'] } as const;

export interface SweepOptions {
  /** Resume a sweep that stopped half-way, when Avara still accepts its cursor. */
  startCursor?: string;
  pageSize: number;
  throttle: () => Promise<void>;
  /** Called after each page is processed with the cursor of the next one (undefined at the end). */
  onPage?: (next: string | undefined, stats: SweepStats) => Promise<void> | void;
  shouldStop?: () => boolean;
}

export interface SweepStats {
  pages: number;
  studies: number;
  restartedFromZero: boolean;
  completed: boolean;
}

export async function sweepCompletedStudies(
  avara: Pick<AvaraClient, 'listStudiesPage'>,
  options: SweepOptions,
  visit: (study: Study) => Promise<void> | void,
): Promise<SweepStats> {
  const stats: SweepStats = { pages: 0, studies: 0, restartedFromZero: false, completed: false };
  let cursor = options.startCursor;
  const usedCursors = new Set<string>();
  for (;;) {
    if (options.shouldStop?.()) return stats;
    await options.throttle();
    const page = await fetchPage(avara, cursor, options.pageSize).catch((error: unknown) => {
      // A stale cursor from an interrupted sweep: fall back to a full sweep once.
      if (cursor !== undefined && cursor === options.startCursor && stats.pages === 0 && isRefusal(error)) return undefined;
      throw error;
    });
    if (!page) {
      stats.restartedFromZero = true;
      cursor = undefined;
      continue;
    }
    stats.pages += 1;
    for (const study of page.studies) {
      // Stopping mid-page leaves the sweep incomplete (and its cursor on the page before).
      if (options.shouldStop?.()) return stats;
      stats.studies += 1;
      await visit(study);
    }
    const next = page.hasMore && page.studies.length > 0 && page.cursor ? page.cursor : undefined;
    if (next !== undefined && usedCursors.has(next)) throw SyncError.retryable('avara_bad_response', 'Avara returned a cursor it had returned before; sweep stopped');
    if (next !== undefined) usedCursors.add(next);
    await options.onPage?.(next, stats);
    if (next === undefined) {
      stats.completed = true;
      return stats;
    }
    cursor = next;
  }
}

function fetchPage(avara: Pick<AvaraClient, 'listStudiesPage'>, cursor: string | undefined, limit: number) {
  return avara.listStudiesPage(COMPLETED, { cursor, limit });
}

function isRefusal(error: unknown): boolean {
  return error instanceof SyncError && (error.code === 'avara_bad_request' || error.code === 'avara_not_found');
}
