import type { Identifier } from '@medplum/fhirtypes';
import type { Report, Study, User } from '../../avara/schemas.ts';

/** One signed Avara report with everything fetched for it. */
export interface SignedReport {
  report: Report;                  // from GET /v1/autoScribe/reports?studyId= (isAddendum, signedAt, userId)
  plainText: string | undefined;   // from GET /reports/text?reportId= (absent when Avara has none)
  pdf: Uint8Array;                 // downloaded from the presigned link, checked to be a PDF
  signer: User;                    // GET /users/{id} (the NPI), named as the study's assignedTo when it is the signer
}

/** How the patient was resolved against the EHR before mapping (fhir-mapping.md "Patient"). */
export type PatientResolution =
  | { kind: 'existing'; reference: string }                       // e.g. "Patient/123"; never updated
  | { kind: 'create'; identifierSystem: string; identifierValue: string }; // conditional create

/**
 * What the EHR's own order says, read at delivery when the study came from an EHR order
 * (`metadata.fhirServiceRequest` / `fhirImagingStudy`): the EHR's facts win over Avara's copies.
 */
export interface EhrOrderFacts {
  accession?: Identifier;          // the ServiceRequest's ACSN identifier, as the EHR assigned it
  started?: string;                // the EHR ImagingStudy's `started` (Avara keeps minutes only)
}

export interface DeliveryInput {
  study: Study;                    // current state, GET /v1/autoScribe/studies/{id}
  reports: SignedReport[];         // every signed report of the study (any order; mapping sorts)
  patient: PatientResolution;
  ehrOrder?: EhrOrderFacts;        // absent when the study did not come from an EHR order
}

export interface MappingOptions {
  identifierSystemBase: string;    // AVARA_IDENTIFIER_SYSTEM_BASE
  mrnSystem: string;               // MRN_SYSTEM
  accessionSystem: string;         // ACCESSION_SYSTEM
  accessionMetadataKey: string;    // ACCESSION_METADATA_KEY
  studyTimeZone: string;           // STUDY_TIME_ZONE (IANA)
  newUuid: () => string;           // injected so golden files pin the output
}
