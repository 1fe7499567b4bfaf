import { describe, expect, it } from 'vitest';
import { buildDeliveryBundle } from '../src/deliveries/mapping/build-delivery-bundle.ts';
import { deliveryContentHash } from '../src/deliveries/mapping/delivery-content-hash.ts';
import type { DeliveryInput } from '../src/deliveries/mapping/delivery-input.ts';
import { addendum1, counterUuids, createPatient, fullStudy, mappingOptions, originalReport } from './fixtures/mapping-fixtures.ts';

function input(): DeliveryInput {
  return { study: fullStudy(), reports: [addendum1(), originalReport()], patient: createPatient() };
}

describe('the delivery content hash', () => {
  it('is the same for the same Avara state whatever uuids the bundle got', () => {
    const first = buildDeliveryBundle(input(), mappingOptions({ newUuid: counterUuids(1) }));
    const second = buildDeliveryBundle(input(), mappingOptions({ newUuid: () => crypto.randomUUID() }));
    expect(first.entry![0]!.fullUrl).not.toBe(second.entry![0]!.fullUrl);
    expect(deliveryContentHash(first)).toBe(deliveryContentHash(second));
  });

  it('is the same when Avara lists the reports in another order', () => {
    const reversed = { ...input(), reports: [...input().reports].reverse() };
    expect(deliveryContentHash(buildDeliveryBundle(reversed, mappingOptions()))).toBe(deliveryContentHash(buildDeliveryBundle(input(), mappingOptions())));
  });

  it('changes when a report text changes', () => {
    const changed = { ...input(), reports: [addendum1(), { ...originalReport(), plainText: 'IMPRESSION: Something else.' }] };
    expect(deliveryContentHash(buildDeliveryBundle(changed, mappingOptions()))).not.toBe(deliveryContentHash(buildDeliveryBundle(input(), mappingOptions())));
  });

  it('changes when the PDF bytes change, which it reads through the attachment hash', () => {
    const changed = { ...input(), reports: [addendum1(), { ...originalReport(), pdf: new Uint8Array([...originalReport().pdf, 0x0a]) }] };
    expect(deliveryContentHash(buildDeliveryBundle(changed, mappingOptions()))).not.toBe(deliveryContentHash(buildDeliveryBundle(input(), mappingOptions())));
  });

  it('changes when an attachment without a hash changes its data', () => {
    const bundle = buildDeliveryBundle(input(), mappingOptions());
    const edited = structuredClone(bundle);
    const report = edited.entry!.at(-1)!.resource as { presentedForm: { data?: string; hash?: string }[] };
    for (const form of report.presentedForm) delete form.hash;
    const before = deliveryContentHash(edited);
    report.presentedForm[0]!.data = Buffer.from('other text').toString('base64');
    expect(deliveryContentHash(edited)).not.toBe(before);
  });

  it('changes when a reference points at another entry', () => {
    const bundle = buildDeliveryBundle(input(), mappingOptions());
    const swapped = structuredClone(bundle);
    const report = swapped.entry!.at(-1)!.resource as { imagingStudy: { reference: string }[] };
    report.imagingStudy[0]!.reference = swapped.entry![0]!.fullUrl!;
    expect(deliveryContentHash(swapped)).not.toBe(deliveryContentHash(bundle));
  });

  it('is the same whether the delivery creates the patient or finds the one an earlier delivery created', () => {
    const created = buildDeliveryBundle(input(), mappingOptions({ newUuid: counterUuids(1) }));
    const found = buildDeliveryBundle({ ...input(), patient: { kind: 'existing', reference: 'Patient/4711' } }, mappingOptions({ newUuid: counterUuids(9) }));
    expect(found.entry!.length).toBe(created.entry!.length - 1);
    expect(deliveryContentHash(found)).toBe(deliveryContentHash(created));
  });

  it('ignores meta profiles and versions but not the critical tag', () => {
    const bundle = buildDeliveryBundle(input(), mappingOptions());
    const reprofiled = structuredClone(bundle);
    const report = reprofiled.entry!.at(-1)!.resource!;
    report.meta = { ...report.meta, profile: ['http://example.org/other-profile'], versionId: '7', lastUpdated: '2026-12-07T00:00:00Z' };
    expect(deliveryContentHash(reprofiled)).toBe(deliveryContentHash(bundle));
    const tagged = structuredClone(bundle);
    tagged.entry!.at(-1)!.resource!.meta = { tag: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', code: 'AA' }] };
    expect(deliveryContentHash(tagged)).not.toBe(deliveryContentHash(bundle));
  });

  it('changes when the patient key it is given changes', () => {
    const bundle = buildDeliveryBundle({ ...input(), patient: { kind: 'existing', reference: 'Patient/1' } }, mappingOptions());
    expect(deliveryContentHash(bundle, 'urn:mrn|1')).not.toBe(deliveryContentHash(bundle, 'urn:mrn|2'));
  });

  it('is 64 hex characters of SHA-256', () => {
    expect(deliveryContentHash(buildDeliveryBundle(input(), mappingOptions()))).toMatch(/^[0-9a-f]{64}$/);
  });
});
