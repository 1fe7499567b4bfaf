import type { Report, Study, User } from '../../avara/schemas.ts';

/** One signed Avara report with everything fetched for it. */
export interface SignedReport {
  report: Report;                  // from GET /v1/autoScribe/reports?studyId= (isAddendum, signedAt, userId)
  plainText: string | undefined;   // from GET /reports/text?reportId= (absent when Avara has none)
  pdf: Uint8Array;                 // downloaded from the presigned link, checked to be a PDF
  signer: User;                    // from the study's assignedTo when its userId matches, else GET /users/{id}
}

/** How the patient was resolved against the EHR before mapping (fhir-mapping.md "Patient"). */
export type PatientResolution =
  | { kind: 'existing'; reference: string }                       // e.g. "Patient/123"; never updated
  | { kind: 'create'; identifierSystem: string; identifierValue: string }; // conditional create

export interface DeliveryInput {
  study: Study;                    // current state, GET /v1/autoScribe/studies/{id}
  reports: SignedReport[];         // every signed report of the study (any order; mapping sorts)
  patient: PatientResolution;
}

export interface MappingOptions {
  identifierSystemBase: string;    // AVARA_IDENTIFIER_SYSTEM_BASE
  mrnSystem: string;               // MRN_SYSTEM
  accessionSystem: string;         // ACCESSION_SYSTEM
  accessionMetadataKey: string;    // ACCESSION_METADATA_KEY
  studyTimeZone: string;           // STUDY_TIME_ZONE (IANA)
  newUuid: () => string;           // injected so golden files pin the output
}
