import { SyncError } from '../errors.ts';
import type { Study, StudyPageSchema } from './schemas.ts';
import type { StudyFilter, StudyPageRequest } from './study-filter.ts';
import type { z } from 'zod';

type StudyPage = z.output<typeof StudyPageSchema>;

/**
 * §4 iteration: re-send every filter with each cursor; stop on hasMore false, an empty page or an
 * empty cursor. Order and duplicates are not promised (§10), so callers must be idempotent.
 */
export async function* iterateStudyPages(
  listPage: (filter: StudyFilter, page: StudyPageRequest) => Promise<StudyPage>, filter: StudyFilter, limit: number,
): AsyncGenerator<Study, void, undefined> {
  let cursor: string | undefined;
  for (;;) {
    const page = await listPage(filter, { cursor, limit });
    yield* page.studies;
    if (!page.hasMore || page.studies.length === 0 || !page.cursor) return;
    if (page.cursor === cursor) {
      throw SyncError.permanent('avara_bad_response', 'Avara GET /v1/autoScribe/studies returned the same cursor twice');
    }
    cursor = page.cursor;
  }
}
