import type { ReportMetadata, Study } from '../../../../avara/schemas.ts';
import type { Hl7Segment } from '@medplum/core';
import { SyncError } from '../../../../errors.ts';
import { hl7Date } from '../../../../hl7/hl7-time.ts';
import { externalPatientId } from '../../../mapping/patient-key.ts';
import { splitPatientName } from '../../../mapping/split-patient-name.ts';
import { buildSegment, type Hl7Component } from './build-segment.ts';
import type { Hl7MessageOptions } from './hl7-message-input.ts';

// The assigning authority of Avara's integrator patient id (hl7v2-mapping.md PID-3).
const EXTERNAL_ID_AUTHORITY = 'AVARA';

/** PID: the receiving engine matches the chart on PID-3 alone, so it must carry an identifier. */
export function buildPid(study: Study, metadata: ReportMetadata, options: Pick<Hl7MessageOptions, 'mrnAssigningAuthority'>): Hl7Segment {
  return buildSegment('PID', {
    3: { repetitions: patientIdentifiers(study, metadata, options) },
    5: patientName(metadata.patientName),
    7: metadata.dateOfBirth ? hl7Date(metadata.dateOfBirth) : undefined,
    8: administrativeSex(metadata.sex),
  });
}

export function buildPv1(options: Pick<Hl7MessageOptions, 'patientClass'>): Hl7Segment {
  return buildSegment('PV1', { 1: '1', 2: options.patientClass });
}

function patientIdentifiers(study: Study, metadata: ReportMetadata, options: Pick<Hl7MessageOptions, 'mrnAssigningAuthority'>): Hl7Component[][] {
  const identifiers: Hl7Component[][] = [];
  if (metadata.mrn) identifiers.push([metadata.mrn, undefined, undefined, options.mrnAssigningAuthority, 'MR']);
  const externalId = externalPatientId(study);
  if (externalId) identifiers.push([externalId, undefined, undefined, EXTERNAL_ID_AUTHORITY, 'PI']);
  if (identifiers.length === 0) {
    // As on the FHIR targets: never let an engine guess a chart from a name and a birth date.
    throw SyncError.permanent('patient_unidentified', `study ${study.studyId} has neither an MRN nor an external patient id`);
  }
  return identifiers;
}

// XPN: family, first given name, the other given names space-separated (hl7v2-mapping.md PID-5,
// split as fhir-mapping.md splits a name). Empty without a name: the engine matches on PID-3.
function patientName(patientName: string | undefined): Hl7Component[] {
  const name = patientName === undefined ? undefined : splitPatientName(patientName);
  if (!name) return [];
  const [given, ...others] = name.given ?? [];
  return [name.family, given, others.length > 0 ? others.join(' ') : undefined];
}

// HL7 table 0001. Avara's sex values are open (avara-api.md §1.6): anything unknown is U, never a guess.
function administrativeSex(sex: string | undefined): string {
  const value = sex?.trim().toLowerCase();
  if (value === 'male') return 'M';
  if (value === 'female') return 'F';
  if (value === 'other') return 'O';
  return 'U';
}
