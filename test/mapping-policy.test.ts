import { describe, expect, it } from 'vitest';
import { decideDeliveryPolicy } from '../src/deliveries/mapping/decide-delivery-policy.ts';
import { fullStudy } from './fixtures/mapping-fixtures.ts';

describe('deciding whether a study is delivered', () => {
  it('delivers a standard study that is not cancelled', () => {
    expect(decideDeliveryPolicy(fullStudy(), { deliverExternalStudies: false })).toEqual({ deliver: true });
  });

  it('skips a study cancelled before any delivery as study_cancelled', () => {
    const study = fullStudy({ isCancelled: true, cancelledAt: '2026-08-21T16:00:00Z' });
    expect(decideDeliveryPolicy(study, { deliverExternalStudies: true })).toMatchObject({ deliver: false, code: 'study_cancelled' });
  });

  it('still delivers a later report of a study cancelled after it was delivered', () => {
    const study = fullStudy({ isCancelled: true });
    expect(decideDeliveryPolicy(study, { deliverExternalStudies: false, studyAlreadyDelivered: true })).toEqual({ deliver: true });
  });

  it('skips an external study as study_external by default', () => {
    expect(decideDeliveryPolicy(fullStudy({ studyType: 'external' }), { deliverExternalStudies: false })).toMatchObject({ deliver: false, code: 'study_external' });
  });

  it('delivers an external study when external studies are enabled', () => {
    expect(decideDeliveryPolicy(fullStudy({ studyType: 'external' }), { deliverExternalStudies: true })).toEqual({ deliver: true });
  });

  it('gives a reason that carries no patient data', () => {
    const decision = decideDeliveryPolicy(fullStudy({ isCancelled: true }), { deliverExternalStudies: false });
    expect(decision.deliver).toBe(false);
    expect(JSON.stringify(decision)).not.toMatch(/Okafor|H-00482913|1971/);
  });
});
