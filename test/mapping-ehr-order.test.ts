import type { Bundle, DiagnosticReport, DocumentReference, Identifier, ImagingStudy, Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/deliveries/mapping/build-delivery-bundle.ts';
import type { EhrOrderFacts } from '../src/deliveries/mapping/delivery-input.ts';
import { addendum1, fullStudy, mappingOptions, originalReport } from './fixtures/mapping-fixtures.ts';

const ACSN_TYPE = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN', display: 'Accession ID' }] };
const EHR_ACCESSION: Identifier = { type: ACSN_TYPE, system: 'urn:oid:1.2.840.114350.1.13.0.1.7.2.727980', value: 'E-2026-000417' };

function build(ehrOrder: EhrOrderFacts | undefined, study = fullStudy()): Bundle {
  const snapshot = { snapshotMetadata: study.reportMetadata };
  const input = { study, reports: [originalReport(snapshot), addendum1(snapshot)], patient: { kind: 'existing' as const, reference: 'Patient/pat-001' } };
  return buildDeliveryBundle(ehrOrder ? { ...input, ehrOrder } : input, mappingOptions());
}

function only<T extends Resource>(bundle: Bundle, type: T['resourceType']): T[] {
  return bundle.entry!.map((e) => e.resource!).filter((r): r is T => r.resourceType === type);
}

function accessions(resource: ImagingStudy | DiagnosticReport): Identifier[] {
  return resource.identifier!.filter((i) => i.type?.coding?.some((c) => c.code === 'ACSN'));
}

describe('a study created from an EHR order', () => {
  it('writes the order accession as the EHR assigned it, not our accession system with the Avara metadata value', () => {
    const bundle = build({ accession: EHR_ACCESSION });
    expect(accessions(only<ImagingStudy>(bundle, 'ImagingStudy')[0]!)).toEqual([EHR_ACCESSION]);
    expect(accessions(only<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!)).toEqual([EHR_ACCESSION]);
    expect(JSON.stringify(bundle)).not.toContain('ACC88120457');
  });

  it('gives the EHR accession the ACSN type when the EHR wrote it without one', () => {
    const bundle = build({ accession: { system: 'urn:ehr:accession', value: 'E-1' } });
    expect(accessions(only<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!)).toEqual([{ system: 'urn:ehr:accession', value: 'E-1', type: ACSN_TYPE }]);
  });

  it('adds the ACSN coding beside a type the EHR coded otherwise, keeping its own', () => {
    const local = { coding: [{ system: 'urn:ehr:id-types', code: 'ACC' }], text: 'Accession' };
    const [identifier] = accessions(only<DiagnosticReport>(build({ accession: { type: local, system: 'urn:ehr:accession', value: 'E-1' } }), 'DiagnosticReport')[0]!);
    expect(identifier!.type).toEqual({ coding: [...local.coding, ...ACSN_TYPE.coding], text: 'Accession' });
  });

  it('uses our own accession when the order gives none', () => {
    const bundle = build({ started: '2026-08-21T11:48:07.512-04:00' });
    expect(accessions(only<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!)).toEqual([
      { type: ACSN_TYPE, system: 'https://api.avarasoftware.com/fhir/sid/accession', value: 'ACC88120457' },
    ]);
  });

  it('dates the DiagnosticReport and the DocumentReferences by the EHR ImagingStudy, leaving ours as Avara has it', () => {
    const bundle = build({ started: '2026-08-21T11:48:07.512-04:00' });
    expect(only<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!.effectiveDateTime).toBe('2026-08-21T11:48:07.512-04:00');
    expect(only<DocumentReference>(bundle, 'DocumentReference').map((d) => d.context?.period?.start)).toEqual([
      '2026-08-21T11:48:07.512-04:00', '2026-08-21T11:48:07.512-04:00',
    ]);
    expect(only<ImagingStudy>(bundle, 'ImagingStudy')[0]!.started).toBe('2026-08-21T11:48:00-04:00');
  });

  it('dates the DiagnosticReport by the EHR ImagingStudy even when Avara has no study date', () => {
    const study = fullStudy({ reportMetadata: { ...fullStudy().reportMetadata, studyDate: undefined, studyTime: undefined } });
    const bundle = build({ started: '2026-08-21T15:48:07Z' }, study);
    expect(only<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!.effectiveDateTime).toBe('2026-08-21T15:48:07Z');
    expect(only<ImagingStudy>(bundle, 'ImagingStudy')[0]).not.toHaveProperty('started');
  });
});

describe('a study not from an EHR order', () => {
  it('keeps our accession and dates the report by our ImagingStudy.started', () => {
    const bundle = build(undefined);
    const report = only<DiagnosticReport>(bundle, 'DiagnosticReport')[0]!;
    expect(accessions(report)).toEqual([{ type: ACSN_TYPE, system: 'https://api.avarasoftware.com/fhir/sid/accession', value: 'ACC88120457' }]);
    expect(report.effectiveDateTime).toBe(only<ImagingStudy>(bundle, 'ImagingStudy')[0]!.started);
  });
});
