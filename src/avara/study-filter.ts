/** Filters of GET /v1/autoScribe/studies (avara-api.md §6.1). `null` means "explicitly none". */
export interface StudyFilter {
  studyReportStatus?: readonly string[];
  isCancelled?: boolean | null;
  severity?: string;
  assignedTo?: string | null;
  expressCustomerId?: string | null;
  studyDescription?: string;
  studyType?: string;
}

export interface StudyPageRequest {
  cursor?: string;
  limit?: number;
}

/**
 * The query exactly as the official SDKs encode it (§1.3): arrays comma-joined in one parameter
 * (URLSearchParams percent-encodes the comma), booleans as true/false, null as an empty value,
 * undefined left out.
 */
export function studyListQuery(filter: StudyFilter, page: StudyPageRequest = {}): URLSearchParams {
  const query = new URLSearchParams();
  const set = (key: string, value: string | number | boolean | null | undefined): void => {
    if (value === undefined) return;
    query.set(key, value === null ? '' : String(value));
  };
  if (filter.studyReportStatus && filter.studyReportStatus.length > 0) set('studyReportStatus', filter.studyReportStatus.join(','));
  set('isCancelled', filter.isCancelled === null ? undefined : filter.isCancelled);
  set('severity', filter.severity);
  set('assignedTo', filter.assignedTo);
  set('expressCustomerId', filter.expressCustomerId);
  set('studyDescription', filter.studyDescription);
  set('studyType', filter.studyType);
  set('cursor', page.cursor || undefined);
  set('limit', page.limit);
  return query;
}
