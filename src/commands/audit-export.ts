import type { AuditEvent, Store } from '../store/store.ts';

export type ExportFormat = 'csv' | 'ndjson';

export const EXPORT_COLUMNS = ['seq', 'at', 'reportId', 'event', 'attempt', 'code', 'by', 'operator', 'diagnosticReport', 'hash', 'prevHash'] as const;
export type ExportRecord = Record<(typeof EXPORT_COLUMNS)[number], string | number | null>;

/**
 * `audit export`: one record per audit row since the given time, for compliance. CSV has ids,
 * events, codes, times and the chain links only, never free text (error messages, operators'
 * reasons). NDJSON adds each row's `detail` exactly as stored, because the hash covers it:
 * that is what lets `audit verify --file` recompute every hash without the database.
 */
export async function writeAuditExport(store: Store, sinceMs: number, format: ExportFormat, write: (chunk: string) => void): Promise<number> {
  let rows = 0;
  if (format === 'csv') write(`${EXPORT_COLUMNS.join(',')}\n`);
  for await (const row of store.audit.iterate(sinceMs)) {
    const record = toExportRecord(row);
    write(format === 'csv' ? `${EXPORT_COLUMNS.map((c) => csvField(record[c])).join(',')}\n` : `${JSON.stringify({ ...record, detail: row.detail ?? null })}\n`);
    rows += 1;
  }
  return rows;
}

/** The summary columns of a row, all derived from what its hash covers. */
export function toExportRecord(row: Pick<AuditEvent, 'seq' | 'at' | 'reportId' | 'hash' | 'prevHash'> & { event: string; detail?: Record<string, unknown> | null }): ExportRecord {
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
    operator: text(detail.operator),
    diagnosticReport: text(fhir.DiagnosticReport),
    hash: row.hash,
    prevHash: row.prevHash,
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
