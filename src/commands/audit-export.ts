import type { Db } from '../store/open-store.ts';
import { iterateAuditEvents, type AuditRow } from '../store/iterate-audit-events.ts';

export type ExportFormat = 'csv' | 'ndjson';

const COLUMNS = ['seq', 'at', 'reportId', 'event', 'attempt', 'code', 'by', 'diagnosticReport', 'hash'] as const;
type ExportRecord = Record<(typeof COLUMNS)[number], string | number | null>;

/**
 * `audit export`: one record per audit row since the given time, for compliance. Ids, events,
 * codes, times and the chain hash only: never messages, which are free text.
 */
export function writeAuditExport(db: Db, sinceMs: number, format: ExportFormat, write: (chunk: string) => void): number {
  let rows = 0;
  if (format === 'csv') write(`${COLUMNS.join(',')}\n`);
  for (const row of iterateAuditEvents(db, sinceMs)) {
    const record = toRecord(row);
    write(format === 'csv' ? `${COLUMNS.map((c) => csvField(record[c])).join(',')}\n` : `${JSON.stringify(record)}\n`);
    rows += 1;
  }
  return rows;
}

function toRecord(row: AuditRow): ExportRecord {
  const detail = (row.detail ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const fhir = (detail.fhir ?? {}) as Record<string, unknown>;
  return {
    seq: row.seq,
    at: new Date(row.at).toISOString(),
    reportId: row.reportId,
    event: row.event,
    attempt: typeof detail.attempt === 'number' ? detail.attempt : null,
    code: text(detail.code) ?? (row.event === 'released' ? text(detail.reason) : null),
    by: text(detail.by) ?? text(detail.source),
    diagnosticReport: text(fhir.DiagnosticReport),
    hash: row.hash,
  };
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** YYYY-MM-DD as UTC midnight; undefined when it is not a real date. */
export function parseSinceDate(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value ? undefined : ms;
}
