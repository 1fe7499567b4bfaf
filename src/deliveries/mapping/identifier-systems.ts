import { DICOM_UID_SYSTEM } from '../../fhir/dicom-uid.ts';
import type { MappingOptions } from './delivery-input.ts';

/** The identifier systems of fhir-mapping.md "Identifier systems"; every conditional key uses one. */
export interface IdentifierSystems {
  studyId: string;
  reportId: string;
  userId: string;
  externalPatientId: string;
  mrn: string;
  accession: string;
  dicomUid: string;
  npi: string;
}

export type IdentifierSystemOptions = Pick<MappingOptions, 'identifierSystemBase' | 'mrnSystem' | 'accessionSystem'>;

export function identifierSystems(options: IdentifierSystemOptions): IdentifierSystems {
  // A trailing slash in the configured base would silently change every system (and idempotency).
  const base = options.identifierSystemBase.replace(/\/+$/, '');
  return {
    studyId: `${base}/study-id`,
    reportId: `${base}/report-id`,
    userId: `${base}/user-id`,
    externalPatientId: `${base}/external-patient-id`,
    mrn: options.mrnSystem,
    accession: options.accessionSystem,
    dicomUid: DICOM_UID_SYSTEM,
    npi: 'http://hl7.org/fhir/sid/us-npi',
  };
}

/** DICOM UIDs are written as OIDs in FHIR identifiers (`urn:oid:` prefix). */
export function dicomUidValue(studyInstanceUid: string): string {
  return `urn:oid:${studyInstanceUid.trim()}`;
}
