/** The FHIR references recorded by a study's deliveries that reached the target (never-re-point rule). */
export function deliveredRefs(rows: { fhirRefs: Record<string, string> | null }[]): Record<string, string>[] {
  return rows.flatMap((row) => (row.fhirRefs ? [row.fhirRefs] : []));
}
