import type { Bundle, DiagnosticReport, DocumentReference } from '@medplum/fhirtypes';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/deliveries/mapping/build-delivery-bundle.ts';
import { validateDeliveryBundle, validateOneResource } from '../src/fhir/validate-resource.ts';
import { createPatient, fullStudy, mappingOptions, originalReport } from './fixtures/mapping-fixtures.ts';

// A report PDF of realistic size: its base64 (~270,000 characters) is long enough to be checked
// apart from medplum's validator, with a stand-in in its place.
const PDF = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(200_000)]);

function bundleWithPdf(): Bundle {
  return buildDeliveryBundle({ study: fullStudy(), reports: [{ ...originalReport(), pdf: PDF }], patient: createPatient() }, mappingOptions());
}

const documentOf = (bundle: Bundle) => bundle.entry!.find((e) => e.resource?.resourceType === 'DocumentReference')!.resource as DocumentReference;
const reportOf = (bundle: Bundle) => bundle.entry!.find((e) => e.resource?.resourceType === 'DiagnosticReport')!.resource as DiagnosticReport;
const pdfOfReport = (bundle: Bundle) => reportOf(bundle).presentedForm!.find((a) => a.contentType === 'application/pdf')!;

function messageOf(action: () => void): string {
  try {
    action();
  } catch (error) {
    expect(error).toMatchObject({ code: 'fhir_invalid_resource', retryable: false });
    return (error as Error).message;
  }
  throw new Error('expected fhir_invalid_resource');
}

describe('validation of resources carrying a large PDF', () => {
  it('accepts the bundle, whose DocumentReference and DiagnosticReport share one encoding of the PDF', () => {
    const bundle = bundleWithPdf();
    expect(documentOf(bundle).content[0]!.attachment.data).toBe(PDF.toString('base64'));
    expect(pdfOfReport(bundle).data).toBe(documentOf(bundle).content[0]!.attachment.data);
    expect(() => validateDeliveryBundle(bundle)).not.toThrow();
  });

  it('leaves the real data in the bundle it validated', () => {
    const bundle = bundleWithPdf();
    validateDeliveryBundle(bundle);
    expect(Buffer.from(pdfOfReport(bundle).data!, 'base64').equals(PDF)).toBe(true);
  });

  it('refuses a PDF whose base64 has a bad character in the middle, naming the entry', () => {
    const bundle = bundleWithPdf();
    const data = pdfOfReport(bundle).data!;
    pdfOfReport(bundle).data = `${data.slice(0, 100_000)}-${data.slice(100_001)}`;
    expect(messageOf(() => validateDeliveryBundle(bundle))).toMatch(/DiagnosticReport: Attachment\.data \[invalid base64\]/);
  });

  it('refuses the second copy when only it is broken, though the first, checked before it, was valid', () => {
    const bundle = bundleWithPdf();
    pdfOfReport(bundle).data = `${pdfOfReport(bundle).data!.slice(0, -4)}\u0141AAA`;
    const message = messageOf(() => validateDeliveryBundle(bundle));
    expect(message).toContain('DiagnosticReport: Attachment.data [invalid base64]');
    expect(message).not.toContain('DocumentReference');
  });

  it('refuses a resource missing a required element even when its large data is stood in for', () => {
    const bundle = bundleWithPdf();
    delete (documentOf(bundle) as Partial<DocumentReference>).status;
    expect(messageOf(() => validateDeliveryBundle(bundle))).toMatch(/DocumentReference: DocumentReference\.status \[(required|structure)\]/);
  });

  it('refuses attachment data of the wrong type, which is not stood in for', () => {
    const bundle = bundleWithPdf();
    (pdfOfReport(bundle) as unknown as { data: number }).data = 42;
    expect(messageOf(() => validateDeliveryBundle(bundle))).toContain('DiagnosticReport');
  });

  it('applies the same checks to one resource sent on its own (fhir-documents)', () => {
    const document = documentOf(bundleWithPdf());
    expect(() => validateOneResource(document)).not.toThrow();
    document.content[0]!.attachment.data = `${document.content[0]!.attachment.data!.slice(0, -8)} AAAAAAA`;
    expect(messageOf(() => validateOneResource(document))).toContain('Attachment.data [invalid base64]');
    const missing = documentOf(bundleWithPdf()) as Partial<DocumentReference>;
    delete missing.content;
    expect(messageOf(() => validateOneResource(missing as DocumentReference))).toContain('DocumentReference.content');
  });
});
