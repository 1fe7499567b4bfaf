import { describe, expect, it } from 'vitest';
import { decideOrderStatus, mayCreateStudy } from '../src/orders/mapping/decide-order-status.ts';
import { diffStudyBody } from '../src/orders/mapping/diff-study-body.ts';
import { mapOrderToStudy } from '../src/orders/mapping/map-order-to-study.ts';
import { studyFieldHashes } from '../src/orders/mapping/study-field-hashes.ts';
import { orderInput, orderOptions, priorReport } from './fixtures/order-fixtures.ts';

const body = (change: (input: ReturnType<typeof orderInput>) => void = () => {}) => {
  const input = orderInput(3);
  change(input);
  return mapOrderToStudy(input, orderOptions());
};

describe('order updates: only what changed', () => {
  it('sends nothing when the order is unchanged', () => {
    expect(diffStudyBody(studyFieldHashes(body()), body())).toBeNull();
  });

  it('sends only the severity for a priority change', () => {
    expect(diffStudyBody(studyFieldHashes(body()), body((i) => (i.serviceRequest.priority = 'routine')))).toEqual({ severity: 'normal' });
  });

  it('sends a corrected name and birth date inside reportMetadata, and clears a removed gender with null', () => {
    const next = body((i) => {
      i.patient.name = [{ text: 'Order Patient-Three' }];
      i.patient.birthDate = '1960-01-01';
      delete i.patient.gender;
    });
    expect(diffStudyBody(studyFieldHashes(body()), next)).toEqual({
      reportMetadata: { patientName: 'Order Patient-Three', dateOfBirth: '1960-01-01', sex: null },
    });
  });

  it('clears a removed clinical history with null and replaces prior reports as a whole', () => {
    const next = body((i) => {
      i.serviceRequest.note = [];
      i.priors = [{ report: priorReport('dr-9', '2020-01-01T00:00:00Z', 'IMPRESSION: ok') }];
    });
    expect(diffStudyBody(studyFieldHashes(body()), next)).toEqual({
      clinicalHistory: null,
      priorReports: [{ reportText: 'IMPRESSION: ok', externalStudyId: 'dr-9' }],
    });
  });

  it('compares a study read back from Avara (extra fields, other key order) as equal to what was sent', () => {
    const sent = body();
    const readBack = { ...sent, reportMetadata: { age: '54 years', ...Object.fromEntries(Object.entries(sent.reportMetadata).reverse()) }, technologistNotes: [], assignedTo: null };
    expect(diffStudyBody(studyFieldHashes(readBack), sent)).toBeNull();
  });
});

describe('order status -> cancel / uncancel', () => {
  const sr = (status: 'active' | 'revoked' | 'entered-in-error' | 'completed' | 'draft') => ({ ...orderInput(1).serviceRequest, status });
  it('cancels a revoked or entered-in-error order once, uncancels it when active again', () => {
    expect(decideOrderStatus(sr('revoked'), false)).toBe('cancel');
    expect(decideOrderStatus(sr('entered-in-error'), false)).toBe('cancel');
    expect(decideOrderStatus(sr('revoked'), true)).toBeNull();
    expect(decideOrderStatus(sr('active'), true)).toBe('uncancel');
    expect(decideOrderStatus(sr('active'), false)).toBeNull();
  });
  it('creates studies only for active or completed orders', () => {
    expect(mayCreateStudy(sr('active'))).toBe(true);
    expect(mayCreateStudy(sr('completed'))).toBe(true);
    expect(mayCreateStudy(sr('draft'))).toBe(false);
    expect(mayCreateStudy(sr('revoked'))).toBe(false);
  });
});

describe('bad FHIR data', () => {
  it('names the missing element with a code, never a value', () => {
    expect(() => body((i) => (i.imagingStudy.identifier = []))).toThrow(expect.objectContaining({ code: 'order_no_study_uid', retryable: false }));
    expect(() => body((i) => (i.patient.identifier = []))).toThrow(expect.objectContaining({ code: 'order_no_mrn' }));
  });
});

describe('prior reports', () => {
  it('sends the newest first, at most PRIOR_REPORTS_MAX, each cut to 50,000 characters; none when there are none', () => {
    const input = orderInput(4);
    input.priors = Array.from({ length: 8 }, (_, k) => ({ report: priorReport(`dr-${k}`, `201${k}-01-01T00:00:00Z`, 'x'.repeat(60_000)) }));
    const priors = mapOrderToStudy(input, orderOptions({ priorReportsMax: 3 })).priorReports!;
    expect(priors.map((p) => p.externalStudyId)).toEqual(['dr-7', 'dr-6', 'dr-5']);
    expect(priors.every((p) => p.reportText.length === 50_000)).toBe(true);
    expect(mapOrderToStudy(orderInput(5), orderOptions()).priorReports).toBeUndefined();
  });
});
