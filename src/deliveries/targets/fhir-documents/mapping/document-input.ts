import type { Study } from '../../../../avara/schemas.ts';
import type { SignedReport } from '../../../mapping/delivery-input.ts';

/** What the EHR answered, found before mapping (fhir-mapping.md "Document target"). */
export interface DocumentInput {
  study: Study;                     // current state: metadata, time, the order it came from
  signed: SignedReport;             // the one report this document carries
  patient: string;                  // `Patient/<id>`: found, never created
  /** `Practitioner/<id>` found by the signer's NPI (exactly one), else undefined: the name is shown instead. */
  author: string | undefined;
  /** `DocumentReference/<id>` of the study's original, for an addendum. */
  original: string | undefined;
  /** `Encounter/<id>` with FHIR_DOCUMENT_ENCOUNTER=search. */
  encounter: string | undefined;
  /** The EHR's own ImagingStudy.started, for a study from an EHR order. */
  ehrStarted: string | undefined;
}

export interface DocumentOptions {
  content: 'pdf' | 'text';          // FHIR_DOCUMENT_CONTENT
  identifierSystemBase: string;     // AVARA_IDENTIFIER_SYSTEM_BASE
  studyTimeZone: string;            // STUDY_TIME_ZONE (IANA)
}
