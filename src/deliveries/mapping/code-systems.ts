import type { CodeableConcept, Coding } from '@medplum/fhirtypes';

// Fixed terminology of fhir-mapping.md, in one place so the mappers and tests agree.

export const LOINC = 'http://loinc.org';
export const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
export const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
export const DICOM_DCM = 'http://dicom.nema.org/resources/ontology/DCM';

export const US_CORE_DIAGNOSTIC_REPORT_NOTE =
  'http://hl7.org/fhir/us/core/StructureDefinition/us-core-diagnosticreport-note';
export const US_CORE_DOCUMENT_REFERENCE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference';
export const US_CORE_PATIENT = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient';
export const US_CORE_PRACTITIONER = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitioner';

export const DIAGNOSTIC_IMAGING_STUDY: Coding = { system: LOINC, code: '18748-4', display: 'Diagnostic imaging study' };

export const RADIOLOGY_CATEGORY: CodeableConcept = {
  coding: [
    { system: LOINC, code: 'LP29684-5', display: 'Radiology' },
    { system: V2_0074, code: 'RAD', display: 'Radiology' },
  ],
};

export const CLINICAL_NOTE_CATEGORY: CodeableConcept = {
  coding: [
    {
      system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category',
      code: 'clinical-note',
      display: 'Clinical Note',
    },
  ],
};

// The system R4's `formatcodes` value set (DocumentReference.content.format) names.
export const MIME_TYPE_SUFFICIENT: Coding = {
  system: 'http://ihe.net/fhir/ValueSet/IHE.FormatCode.codesystem',
  code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient',
  display: 'mimeType Sufficient',
};

export const CRITICAL_TAG: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  code: 'AA',
  display: 'Critical abnormal',
};

const IDENTIFIER_TYPE_DISPLAY = {
  MR: 'Medical record number',
  PI: 'Patient internal identifier',
  ACSN: 'Accession ID',
} as const;

export function identifierType(code: keyof typeof IDENTIFIER_TYPE_DISPLAY): CodeableConcept {
  return { coding: [{ system: V2_0203, code, display: IDENTIFIER_TYPE_DISPLAY[code] }] };
}
