import type { ErrorCode } from '../../errors.ts';

// What a person does about each code the service records (a delivery's or an order's last error,
// a skip, an attempt given back). One table, so the audit page, and whoever reads this file,
// has an answer for every code; test/error-hints.test.ts collects the codes from src/ and fails
// when one has no hint here. "Retry" means the page's Retry button or `avara-fhir-sync retry`.

/** Error codes (src/errors.ts): typed, so a new code without a hint does not compile. */
const ERROR_HINTS: Record<ErrorCode, string> = {
  avara_unavailable: 'Avara could not be reached or answered 5xx. Nothing to do unless it lasts: it is retried; if it ends dead, check Avara\'s status and the network, then Retry.',
  avara_rate_limited: 'Avara asked us to slow down. Nothing to do: it waits as told, without spending an attempt.',
  avara_unauthorized: 'Avara refused AVARA_API_KEY. Check the key and its product access in Avara, fix the environment, restart, then Retry.',
  avara_not_found: 'Avara does not know the report or study (yet). Usually it appears within seconds; if it stays dead, ask whether it was deleted in Avara.',
  avara_bad_response: 'Avara answered something we cannot use (e.g. an addendum without an original, no text and no PDF). Read the message; fix the study in Avara, then Retry.',
  avara_bad_request: 'Avara refused our request. Read the message; usually a setting (ids, product access) needs fixing before a Retry.',
  report_not_signed: 'The report is not signed yet in Avara. Nothing to do: it is delivered once signed.',
  pdf_link_expired: 'The PDF link from Avara expired. Nothing to do: a fresh link is fetched on the next attempt.',
  pdf_host_not_allowed: 'The PDF link points to a host not in PDF_ALLOWED_HOSTS (or is not https). If the host is Avara\'s legitimate storage, add it to PDF_ALLOWED_HOSTS and restart, then Retry; otherwise report it to Avara.',
  pdf_invalid: 'The downloaded file is not a PDF (or a redirect was offered). It is retried; if it ends dead, ask Avara to regenerate the report PDF, then Retry.',
  pdf_too_large: 'The PDF is larger than the service accepts. Ask Avara why the report PDF is so large (embedded images?); once it is regenerated smaller, Retry.',
  pdf_unavailable: 'The PDF download failed (storage busy or unreachable). Nothing to do unless it ends dead; then check access to the storage host and Retry.',
  fhir_unavailable: 'The EHR\'s FHIR server could not be reached or answered 5xx (the message names the cause and host). Check the EHR and the network; after it ends dead, Retry.',
  fhir_rate_limited: 'The EHR asked us to slow down. Nothing to do: it waits as told, without spending an attempt.',
  fhir_conflicting_matches: 'Several EHR resources carry one business identifier, so a conditional write cannot choose. Ask the EHR team to merge the duplicates named in the message, then Retry.',
  fhir_unauthorized: 'The EHR refused our credentials or token. Check FHIR_AUTH (client id, key, scopes, token URL) with the EHR team, fix, restart, then Retry.',
  fhir_rejected_bundle: 'The EHR refused what we sent (4xx) or answered incompletely. Read the OperationOutcome in the message with the EHR team; fix the setting or the data, then Retry.',
  fhir_invalid_resource: 'What we would send is not valid FHIR, so it was not sent. Usually bad data in Avara (a date, a code): fix it there, then Retry; otherwise report a bug.',
  fhir_readback_failed: 'The EHR accepted the write but the result could not be found again (or the original of an addendum is missing there). Look in the EHR for the report; Retry once the original is there.',
  patient_unidentified: 'The study has neither an MRN nor an external patient id. Add the MRN to the study in Avara, then Retry.',
  patient_name_missing: 'No patient is created without a name. Add the patient name to the study in Avara, then Retry.',
  patient_mismatch: 'The EHR patient with this MRN has a different name or birth date than Avara. Do not Retry blindly: find out which side is wrong (wrong MRN on the study, or a demographics error), correct it, then Retry.',
  patient_not_found: 'No EHR patient has this MRN (PATIENT_MODE=match creates none). Check the MRN on the study in Avara; if it is right, register the patient in the EHR, then Retry.',
  patient_ambiguous: 'Several EHR patients carry this MRN. Ask the EHR team to merge the duplicate charts, then Retry.',
  patient_changed_after_delivery: 'Reports of this study already went to a different chart than the one the study points to now. Nothing was moved. Decide with the EHR team which chart is right and correct it there (and the MRN in Avara); a Retry alone changes nothing.',
  study_cancelled: 'Skipped: the study was cancelled in Avara, so nothing was sent. A skip is final (Retry and Replay do not apply to it); if the cancel was a mistake, tell the integration team.',
  study_external: 'Skipped: an archive (external) study, delivered only with DELIVER_EXTERNAL_STUDIES on. A skip is final; nothing to do.',
  lease_lost: 'Another worker took over this delivery (this one was too slow or stopped). Nothing to do: the new owner finishes it.',
  hl7_rejected: 'The HL7 receiver refused the message (AE/CE); its answer is shown under "Refused by the receiver". Fix what it names (often the patient or order is unknown to the interface engine), then Retry.',
  hl7_no_ack: 'The HL7 receiver did not acknowledge in time. It is resent under the same control id; if it ends dead, ask the interface team whether the message arrived before a Retry.',
  write_outcome_unknown: 'A write left without an answer and the EHR cannot be searched for it. Look in the EHR chart: if the document is there, leave it; if not, Retry.',
  encounter_not_found: 'No single EHR encounter covers the study date (FHIR_DOCUMENT_ENCOUNTER=search). Ask registration to create or fix the encounter, then Retry.',
  lease_expired_repeatedly: 'The worker stopped (crashed or hung) several times while on this delivery. Check the service log and memory around those times; then Retry.',
  order_no_study_uid: 'The EHR order has no Study Instance UID. Fix the order in the EHR; it is picked up again when it changes.',
  order_no_mrn: 'The EHR order\'s patient has no MRN in MRN_SYSTEM. Fix the patient in the EHR; it is picked up again when it changes.',
  order_no_service_request: 'The ImagingStudy names no ServiceRequest. Fix the order in the EHR; it is picked up again when it changes.',
  order_no_patient: 'The order\'s patient could not be read. Fix the order in the EHR; it is picked up again when it changes.',
  order_invalid_data: 'The EHR order has data Avara refuses. Read the message, fix the order in the EHR; it is picked up again when it changes.',
  internal: 'An unexpected error in avara-fhir-sync. Keep the delivery as it is, note the report id and the time, and report it with the service log.',
};

/** Why an attempt was given back without spending it (the attempts table's reason): waits, not faults. */
const WAIT_HINTS: Record<string, string> = {
  rate_limited: 'Told to wait (429 or 503 with Retry-After). Nothing to do.',
  credentials_refused: 'Credentials were refused; paused before trying again. Check AVARA_API_KEY or FHIR_AUTH.',
  shutdown: 'The service was stopping; the next start takes it up again. Nothing to do.',
  study_locked: 'Another delivery of the same study was running. Nothing to do.',
  study_or_patient_locked: 'Another delivery of the same study or patient was running. Nothing to do.',
  uid_locked: 'Another order with the same Study Instance UID was running. Nothing to do.',
  earlier_report_not_delivered: 'An earlier report of the study goes first (signing order). If that one is stuck, fix it first.',
  hl7_receiver_busy: 'The HL7 receiver answered AR/CR (cannot take it now). It is sent again; if it lasts, ask the interface team.',
  hl7_unreachable: 'The HL7 receiver could not be reached (cause named after the code). Check the interface engine and the network.',
};

/** The hint for a recorded code; a wait reason may carry its cause after a space ("hl7_unreachable ECONNREFUSED"). */
export function hintFor(code: string | null | undefined): string | undefined {
  if (!code) return undefined;
  const name = code.split(' ')[0]!;
  return (ERROR_HINTS as Record<string, string>)[name] ?? WAIT_HINTS[name];
}

/** Every code with a hint, for the test that holds this table complete. */
export function codesWithHints(): string[] {
  return [...Object.keys(ERROR_HINTS), ...Object.keys(WAIT_HINTS)];
}
