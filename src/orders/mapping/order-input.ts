import type { DiagnosticReport, ImagingStudy, Patient, Practitioner, ServiceRequest } from '@medplum/fhirtypes';

/** Everything one order's Avara study is built from, read from the EHR by the order sync. */
export interface OrderInput {
  imagingStudy: ImagingStudy;
  serviceRequest: ServiceRequest;
  patient: Patient;
  /** The ServiceRequest's requester when it is a Practitioner without a display. */
  requester?: Practitioner;
  /** The patient's DiagnosticReports, each with its ImagingStudy when it references one. */
  priors: PriorCandidate[];
}

export interface PriorCandidate {
  report: DiagnosticReport;
  imagingStudy?: ImagingStudy;
}

export interface OrderMappingOptions {
  mrnSystem: string;
  studyTimeZone: string;
  /** PRIOR_REPORTS_MAX, 0..50 */
  priorReportsMax: number;
}

