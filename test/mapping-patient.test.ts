import { describe, expect, it } from 'vitest';
import { comparePatientDemographics } from '../src/fhir/mapping/compare-patient-demographics.ts';
import { mapPatient } from '../src/fhir/mapping/map-patient.ts';
import { patientKey } from '../src/fhir/mapping/patient-key.ts';
import { splitPatientName } from '../src/fhir/mapping/split-patient-name.ts';
import { fullStudy, mappingOptions } from './fixtures/mapping-fixtures.ts';

describe('splitting the patient name', () => {
  it('reads "Family, Given Middle" as family and two given names', () => {
    expect(splitPatientName('Okafor, Adaeze Chioma')).toEqual({ text: 'Okafor, Adaeze Chioma', family: 'Okafor', given: ['Adaeze', 'Chioma'] });
  });

  it('keeps a multi-word family name before the comma whole', () => {
    expect(splitPatientName('García Márquez, Gabriel')).toEqual({ text: 'García Márquez, Gabriel', family: 'García Márquez', given: ['Gabriel'] });
  });

  it('reads exactly two words as "Given Family"', () => {
    expect(splitPatientName('Adaeze Okafor')).toEqual({ text: 'Adaeze Okafor', family: 'Okafor', given: ['Adaeze'] });
  });

  it('splits two unicode words the same way', () => {
    expect(splitPatientName('Zoë Ñúñez-Åberg')).toEqual({ text: 'Zoë Ñúñez-Åberg', family: 'Ñúñez-Åberg', given: ['Zoë'] });
  });

  it('keeps only the text for three words without a comma', () => {
    expect(splitPatientName('Mary Ann Smith')).toEqual({ text: 'Mary Ann Smith' });
  });

  it('keeps only the text for a single word', () => {
    expect(splitPatientName('Cher')).toEqual({ text: 'Cher' });
  });

  it('keeps only the text when there are several commas', () => {
    expect(splitPatientName('Smith, John, Jr.')).toEqual({ text: 'Smith, John, Jr.' });
  });

  it('keeps only the text when one side of the comma is empty', () => {
    expect(splitPatientName(', John')).toEqual({ text: ', John' });
    expect(splitPatientName('Smith,')).toEqual({ text: 'Smith,' });
  });

  it('ignores surrounding and repeated blanks when splitting, keeping the trimmed text', () => {
    expect(splitPatientName('  Adaeze   Okafor ')).toEqual({ text: 'Adaeze   Okafor', family: 'Okafor', given: ['Adaeze'] });
  });

  it('gives no name for a blank string', () => {
    expect(splitPatientName('   ')).toBeUndefined();
  });
});

describe('the Patient we create', () => {
  const options = mappingOptions();

  it('writes gender unknown when Avara has no sex, and no birthDate without a date of birth', () => {
    const patient = mapPatient(fullStudy(), { patientName: 'Adaeze Okafor', mrn: 'H-1' }, options);
    expect(patient.gender).toBe('unknown');
    expect(patient).not.toHaveProperty('birthDate');
  });

  it('does not guess a gender from an unknown Avara sex value', () => {
    expect(mapPatient(fullStudy(), { sex: 'F', mrn: 'H-1' }, options).gender).toBe('unknown');
  });

  it('carries no height, weight or age', () => {
    const patient = mapPatient(fullStudy(), fullStudy().reportMetadata, options);
    expect(Object.keys(patient).sort()).toEqual(['birthDate', 'gender', 'identifier', 'meta', 'name', 'resourceType']);
  });
});

describe('the patient key', () => {
  const options = mappingOptions();

  it('is the MRN when the study has one', () => {
    expect(patientKey(fullStudy(), undefined, options)).toEqual({ system: 'urn:avara-fhir-sync:mrn', value: 'H-00482913', type: 'MR' });
  });

  it('falls back to the MRN of the latest snapshot when the study has none', () => {
    const study = fullStudy({ reportMetadata: { patientName: 'Adaeze Okafor' } });
    expect(patientKey(study, { mrn: 'H-77' }, options)).toMatchObject({ value: 'H-77', type: 'MR' });
  });

  it('prefers the study MRN over the snapshot MRN, since corrections made after sign-off count', () => {
    expect(patientKey(fullStudy(), { mrn: 'OLD-1' }, options)).toMatchObject({ value: 'H-00482913' });
  });

  it('is the external patient id when no MRN exists anywhere', () => {
    const study = fullStudy({ reportMetadata: { mrn: '  ' } });
    expect(patientKey(study, {}, options)).toEqual({
      system: 'https://api.avarasoftware.com/fhir/sid/external-patient-id',
      value: 'PT-7731904',
      type: 'PI',
    });
  });

  it('is absent when there is neither an MRN nor an external patient id', () => {
    expect(patientKey(fullStudy({ reportMetadata: {}, externalPatientId: null }), {}, options)).toBeUndefined();
  });
});

describe('comparing the EHR patient with Avara demographics', () => {
  it('accepts equal birth dates and genders', () => {
    expect(comparePatientDemographics({ birthDate: '1971-11-03', gender: 'female' }, { dateOfBirth: '1971-11-03', sex: 'female' })).toEqual({ ok: true });
  });

  it('names birthDate when the birth dates differ', () => {
    expect(comparePatientDemographics({ birthDate: '1971-11-04' }, { dateOfBirth: '1971-11-03' })).toEqual({ ok: false, field: 'birthDate' });
  });

  it('names gender when the genders differ', () => {
    expect(comparePatientDemographics({ gender: 'male' }, { sex: 'female' })).toEqual({ ok: false, field: 'gender' });
  });

  it('matches Avara other with FHIR other or unknown', () => {
    expect(comparePatientDemographics({ gender: 'other' }, { sex: 'other' })).toEqual({ ok: true });
    expect(comparePatientDemographics({ gender: 'unknown' }, { sex: 'other' })).toEqual({ ok: true });
  });

  it('does not match Avara male with FHIR unknown', () => {
    expect(comparePatientDemographics({ gender: 'unknown' }, { sex: 'male' })).toEqual({ ok: false, field: 'gender' });
  });

  it('compares nothing that only one side has', () => {
    expect(comparePatientDemographics({}, { dateOfBirth: '1971-11-03', sex: 'female' })).toEqual({ ok: true });
    expect(comparePatientDemographics({ birthDate: '1971-11-03', gender: 'female' }, {})).toEqual({ ok: true });
  });
});
