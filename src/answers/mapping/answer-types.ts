import type { DocumentReference, ImagingStudy, Observation, Patient, Practitioner, ServiceRequest } from '@medplum/fhirtypes';
import type { PriorCandidate } from '../../orders/mapping/order-input.ts';

/** avara-api.md §7.3.6: every field optional, `{}` is a valid answer. */
export interface EnrichmentAnswer {
  patientName?: string;
  mrn?: string;
  externalPatientId?: string;
  dateOfBirth?: string;
  sex?: 'male' | 'female' | 'other';
  height?: { unit: 'cm'; value: number };
  weight?: { unit: 'kg'; value: number };
  facilityName?: string;
  referringPhysicianName?: string;
  procedure?: string;
  studyDescription?: string;
  studyDate?: string;
  studyTime?: string;
  severity?: 'normal' | 'high' | 'stat';
}

/** avara-api.md §7.3.7: every field optional, `{}` is a valid answer. */
export interface ClinicalContextAnswer {
  clinicalIndication?: string;
  technologistTechnique?: string;
  technologistNotes?: string[];
  priorReports?: { reportText: string; externalStudyId?: string; modality?: string; studyDate?: string; studyDescription?: string }[];
  documents?: { fileName: string; content: string[] }[];
}

/** avara-api.md §7.3.5: PascalCase DICOM keys, every value a string. */
export interface WorklistItem {
  AccessionNumber: string;
  Modality: string;
  PatientBirthDate: string;
  PatientID: string;
  PatientName: string;
  PatientSex: string;
  PatientSize: string;
  PatientWeight: string;
  ProtocolName: string;
  RequestedProcedureDescription: string;
  StudyDescription: string;
  StudyInstanceUID: string;
  ScheduledProcedureStepSequence: ScheduledStep[];
}

export interface ScheduledStep {
  Modality: string;
  ScheduledProcedureStepDescription: string;
  ScheduledProcedureStepID: string;
  ScheduledProcedureStepStartDate: string;
  ScheduledProcedureStepStartTime: string;
}

/** The latest body height and weight Observations of a patient, when the EHR has them. */
export interface BodyMeasures {
  height?: Observation;
  weight?: Observation;
}

/** One order as the EHR has it; every part optional because a lookup may find only some of them. */
export interface FoundOrder {
  patient?: Patient;
  serviceRequest?: ServiceRequest;
  imagingStudy?: ImagingStudy;
  /** The ServiceRequest's requester when it is a Practitioner without a display. */
  requester?: Practitioner;
  measures?: BodyMeasures;
}

export interface ClinicalContextInput extends FoundOrder {
  priors: PriorCandidate[];
  notes: DocumentReference[];
}

export interface SyncAnswerOptions {
  mrnSystem: string;
  studyTimeZone: string;
  priorReportsMax: number;
}
