import type { Study } from '../../../../avara/schemas.ts';
import type { EhrOrderFacts, SignedReport } from '../../../mapping/delivery-input.ts';

/** What one hl7v2 delivery sends from: the study's current state, like the FHIR mapping's input. */
export interface Hl7MessageInput {
  study: Study;                   // current state, GET /v1/autoScribe/studies/{id}
  reports: SignedReport[];        // every report of the study (any order; the builder keeps the signed ones and sorts)
  reportId: string;               // the delivery's report: MDM T02 vs T06 and TXA-12 depend on it
  ehrOrder?: EhrOrderFacts;       // when the study came from an EHR order (its accession wins for ORC-2/OBR-2)
}

/** HL7_MESSAGE_TYPE: the message family; an addendum turns MDM^T02 into MDM^T06. */
export type Hl7MessageFamily = 'ORU^R01' | 'MDM^T02';

/** MSH-9 as sent. */
export type Hl7MessageType = 'ORU^R01^ORU_R01' | 'MDM^T02^MDM_T02' | 'MDM^T06^MDM_T06';

export interface Hl7MessageOptions {
  messageType: Hl7MessageFamily;  // HL7_MESSAGE_TYPE
  sendingApplication: string;     // HL7_SENDING_APPLICATION (MSH-3)
  sendingFacility?: string;       // HL7_SENDING_FACILITY (MSH-4)
  receivingApplication?: string;  // HL7_RECEIVING_APPLICATION (MSH-5)
  receivingFacility?: string;     // HL7_RECEIVING_FACILITY (MSH-6)
  processingId: string;           // HL7_PROCESSING_ID (MSH-11)
  mrnAssigningAuthority?: string; // HL7_MRN_ASSIGNING_AUTHORITY (PID-3.4 of the MRN)
  patientClass: string;           // HL7_PATIENT_CLASS (PV1-2)
  embedPdf: boolean;              // HL7_EMBED_PDF
  studyTimeZone: string;          // STUDY_TIME_ZONE (IANA)
  accessionMetadataKey: string;   // ACCESSION_METADATA_KEY
  now: () => Date;                // MSH-7 only; injected so golden files pin the output
}

export interface BuiltHl7Message {
  text: string;                   // ER7, segments separated by \r
  controlId: string;              // MSH-10
  contentHash: string;            // SHA-256 hex of the message without MSH-7 and MSH-10
  messageType: Hl7MessageType;
}
