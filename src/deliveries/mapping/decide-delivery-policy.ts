import type { Study } from '../../avara/schemas.ts';

export type DeliveryPolicy =
  | { deliver: true }
  | { deliver: false; code: 'study_cancelled' | 'study_external'; reason: string };

export interface DeliveryPolicyOptions {
  deliverExternalStudies: boolean; // DELIVER_EXTERNAL_STUDIES
  /**
   * The study already has a delivered report. A cancellation after delivery retracts nothing and
   * must not stop a later addendum from reaching the chart (fhir-mapping.md "Lifecycle cases").
   * Optional so existing callers keep the stricter default.
   */
  studyAlreadyDelivered?: boolean;
}

/** Whether a study's reports go to the EHR at all. Reasons carry no patient data. */
export function decideDeliveryPolicy(study: Study, options: DeliveryPolicyOptions): DeliveryPolicy {
  if (study.isCancelled && !options.studyAlreadyDelivered) {
    return { deliver: false, code: 'study_cancelled', reason: 'study was cancelled in Avara before any delivery; nothing is written' };
  }
  // studyType is an open enum (avara-api.md §1.6); only the documented `external` is held back.
  if (study.studyType?.trim().toLowerCase() === 'external' && !options.deliverExternalStudies) {
    return { deliver: false, code: 'study_external', reason: 'external (archive) study; DELIVER_EXTERNAL_STUDIES is off' };
  }
  return { deliver: true };
}
