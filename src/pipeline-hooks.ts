/**
 * Named points in the pipeline where a test may kill the process (crash tests). Only test
 * harnesses pass hooks to startApp; normal runs have none and no code path changes.
 */
export type PipelinePoint = 'after_inbox_commit' | 'after_fhir_commit' | 'mid_pdf_download'
  // Orders: Avara answered the create, and nothing of it is recorded yet.
  | 'after_avara_create';

export interface PipelineHooks {
  at(point: PipelinePoint): void;
}
