import type { Bundle, Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/deliveries/mapping/build-delivery-bundle.ts';
import { validateDeliveryBundle } from '../src/fhir/validate-resource.ts';
import { createPatient, fullStudy, mappingOptions, originalReport } from './fixtures/mapping-fixtures.ts';

function validBundle(): Bundle {
  return buildDeliveryBundle({ study: fullStudy(), reports: [originalReport()], patient: createPatient() }, mappingOptions());
}

function thrownBy(action: () => void): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('validating the delivery bundle', () => {
  it('accepts a bundle built by the mapping', () => {
    expect(() => validateDeliveryBundle(validBundle())).not.toThrow();
  });

  it('accepts a 3 MB PDF, whose base64 is longer than the validator allows any string to be', () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(3 * 1024 * 1024, 7)]);
    const bundle = buildDeliveryBundle({ study: fullStudy(), reports: [{ ...originalReport(), pdf }], patient: createPatient() }, mappingOptions());
    expect(() => validateDeliveryBundle(bundle)).not.toThrow();
  });

  it('still refuses attachment data that is not base64', () => {
    const bundle = validBundle();
    const report = bundle.entry!.at(-1)!.resource as { presentedForm: { data: string }[] };
    report.presentedForm[1]!.data = '!'.repeat(100_000);
    expect(thrownBy(() => validateDeliveryBundle(bundle))).toMatchObject({ code: 'fhir_invalid_resource' });
  });

  it('rejects a broken resource as a permanent fhir_invalid_resource naming type, path and issue code', () => {
    const bundle = validBundle();
    const patient = bundle.entry![0]!.resource as Patient;
    patient.birthDate = 'born 3 Nov 1971';
    const error = thrownBy(() => validateDeliveryBundle(bundle));
    expect(error).toMatchObject({ code: 'fhir_invalid_resource', retryable: false });
    expect((error as Error).message).toContain('Patient: Patient.birthDate [structure]');
  });

  it('keeps values out of the message', () => {
    const bundle = validBundle();
    const patient = bundle.entry![0]!.resource as Patient & { nickname: string };
    patient.birthDate = 'born 3 Nov 1971';
    patient.nickname = 'Adaeze';
    patient.name![0]!.family = '' as string; // empty strings are invalid in FHIR
    const message = (thrownBy(() => validateDeliveryBundle(bundle)) as Error).message;
    expect(message).not.toMatch(/1971|Adaeze|Okafor|H-00482913/);
  });
});

describe('validation warnings', () => {
  it('does not report the urn:uuid reference warnings of a resource that has a real error', () => {
    const bundle = validBundle();
    const report = bundle.entry!.at(-1)!.resource as unknown as Record<string, unknown>;
    report.date = '2026-08-21';
    const message = (thrownBy(() => validateDeliveryBundle(bundle)) as Error).message;
    expect(message).toContain('DiagnosticReport: DiagnosticReport.date [structure]');
    expect(message).not.toContain('DiagnosticReport.subject');
  });
});
