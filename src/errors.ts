// One error model for every failure that crosses a module: a machine-readable code, and whether
// trying again later can help. Decided where the HTTP status is known; nobody matches messages.
export type ErrorCode =
  | 'avara_unavailable'
  | 'avara_rate_limited'
  | 'avara_unauthorized'
  | 'avara_not_found'
  | 'avara_bad_response'
  | 'avara_bad_request'
  | 'report_not_signed'
  | 'pdf_link_expired'
  | 'pdf_host_not_allowed'
  | 'pdf_invalid'
  | 'pdf_too_large'
  | 'pdf_unavailable'
  | 'fhir_unavailable'
  | 'fhir_rate_limited'
  | 'fhir_conflicting_matches'
  | 'fhir_unauthorized'
  | 'fhir_rejected_bundle'
  | 'fhir_invalid_resource'
  | 'fhir_readback_failed'
  | 'patient_unidentified'
  | 'patient_name_missing'
  | 'patient_mismatch'
  | 'patient_not_found'
  | 'patient_ambiguous'
  | 'patient_changed_after_delivery'
  | 'study_cancelled'
  | 'study_external'
  | 'lease_lost'
  // HL7 v2 target (hl7v2-mapping.md "Acknowledgments").
  | 'hl7_rejected'
  | 'hl7_no_ack'
  // fhir-documents target (fhir-mapping.md "Document target"): a person looks at the chart.
  | 'write_outcome_unknown'
  | 'encounter_not_found'
  | 'lease_expired_repeatedly'
  // Orders (EHR -> Avara): the EHR's data cannot make a study; fixed records are picked up again.
  | 'order_no_study_uid'
  | 'order_no_mrn'
  | 'order_no_service_request'
  | 'order_no_patient'
  | 'order_invalid_data'
  | 'internal';

export class SyncError extends Error {
  private constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'SyncError';
  }

  static retryable(code: ErrorCode, message: string, extra: { retryAfterMs?: number; cause?: unknown } = {}): SyncError {
    return new SyncError(code, message, true, extra.retryAfterMs, { cause: extra.cause });
  }

  static permanent(code: ErrorCode, message: string, cause?: unknown): SyncError {
    return new SyncError(code, message, false, undefined, { cause });
  }
}

/** Unknown throws become a retryable `internal`, so a bug dead-letters with a code instead of vanishing. */
export function toSyncError(error: unknown): SyncError {
  if (error instanceof SyncError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : 'non-error thrown';
  return SyncError.retryable('internal', message, { cause: error });
}
