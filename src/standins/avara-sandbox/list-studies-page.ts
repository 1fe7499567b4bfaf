import type { SandboxStudy } from './sandbox-types.ts';

const REPORT_STATUSES = new Set(['unassigned', 'assigned', 'in_progress', 'completed', 'addendum_active']);
const SEVERITIES = new Set(['normal', 'high', 'stat']);
const STUDY_TYPES = new Set(['standard', 'external']);

export type StudyPageResult =
  | { ok: true; page: { studies: SandboxStudy[]; cursor: string; hasMore: boolean } }
  | { ok: false; message: string };

type Filter = (study: SandboxStudy) => boolean;

/**
 * GET /v1/autoScribe/studies (avara-api.md §4, §6.1). The cursor names the last study served, and
 * paging continues after it in insertion order, so studies added meanwhile land at the end.
 */
export function listStudiesPage(all: SandboxStudy[], query: URLSearchParams, chaos = false): StudyPageResult {
  const limitText = query.get('limit') ?? '20';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100) return { ok: false, message: 'limit must be an integer from 1 to 100' };
  const filters = parseFilters(query);
  if (typeof filters === 'string') return { ok: false, message: filters };
  const start = startIndex(all, query.get('cursor'));
  if (start === undefined) return { ok: false, message: 'invalid cursor' };
  const matching: SandboxStudy[] = [];
  let index = start;
  for (; index < all.length && matching.length < limit; index++) {
    const study = all[index]!;
    if (filters.every((filter) => filter(study))) matching.push(study);
  }
  const hasMore = all.slice(index).some((study) => filters.every((filter) => filter(study)));
  const last = matching.at(-1);
  const cursor = last ? Buffer.from(JSON.stringify({ after: last.studyId })).toString('base64') : '';
  return { ok: true, page: { studies: chaos ? scramble(matching, all[start - 1]) : matching, cursor, hasMore } };
}

/** The previous page's last item again, and the page in a different order on every call. */
function scramble(page: SandboxStudy[], previous: SandboxStudy | undefined): SandboxStudy[] {
  const items = previous ? [previous, ...page] : [...page];
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function startIndex(all: SandboxStudy[], cursor: string | null): number | undefined {
  if (!cursor) return 0;
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as { after?: unknown };
    const position = all.findIndex((study) => study.studyId === after);
    return position < 0 ? undefined : position + 1;
  } catch {
    return undefined;
  }
}

function parseFilters(query: URLSearchParams): Filter[] | string {
  const filters: Filter[] = [];
  const statuses = query.get('studyReportStatus');
  if (statuses) {
    const wanted = statuses.split(',');
    if (!wanted.every((s) => REPORT_STATUSES.has(s))) return 'studyReportStatus has an unknown value';
    filters.push((study) => wanted.includes(study.studyReportStatus));
  }
  const cancelled = query.get('isCancelled');
  if (cancelled) {
    if (cancelled !== 'true' && cancelled !== 'false') return 'isCancelled must be true or false';
    filters.push((study) => study.isCancelled === (cancelled === 'true'));
  }
  const severity = query.get('severity');
  if (severity !== null) {
    if (!SEVERITIES.has(severity)) return 'severity has an unknown value';
    filters.push((study) => study.severity === severity);
  }
  const studyType = query.get('studyType');
  if (studyType !== null) {
    if (!STUDY_TYPES.has(studyType)) return 'studyType must be standard or external';
    filters.push((study) => (study.studyType ?? 'standard') === studyType);
  }
  // An empty value means "explicitly none" for these two (§1.3).
  const assignedTo = query.get('assignedTo');
  if (assignedTo !== null) filters.push((study) => (study.assignedTo?.userId ?? '') === assignedTo);
  const customer = query.get('expressCustomerId');
  if (customer !== null) filters.push((study) => (study.expressCustomer?.expressCustomerId ?? '') === customer);
  const description = query.get('studyDescription')?.toLowerCase();
  if (description) filters.push((study) => study.studyDescription.toLowerCase().includes(description));
  return filters;
}
