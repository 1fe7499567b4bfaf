import type { ReportMetadata, Study } from '../../avara/schemas.ts';

/**
 * The study's current `reportMetadata`, falling back field by field to the latest signed report's
 * `snapshotMetadata` (fhir-mapping.md "Patient", step 3): corrections made after sign-off win,
 * and a field Avara only kept on the report is not lost. Blank strings count as absent.
 */
export function currentMetadata(study: Study, latestSnapshot: ReportMetadata | undefined): ReportMetadata {
  const merged: Record<string, unknown> = {};
  const current = study.reportMetadata as Record<string, unknown>;
  const snapshot = (latestSnapshot ?? {}) as Record<string, unknown>;
  for (const key of new Set([...Object.keys(current), ...Object.keys(snapshot)])) {
    const value = present(current[key]) ? current[key] : snapshot[key];
    if (present(value)) merged[key] = typeof value === 'string' ? value.trim() : value;
  }
  return merged as ReportMetadata;
}

function present(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  return typeof value !== 'string' || value.trim() !== '';
}
