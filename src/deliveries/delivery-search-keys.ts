import type { Report, Study } from '../avara/schemas.ts';
import { hashMrn } from '../store/store.ts';
import { currentMetadata } from './mapping/current-metadata.ts';
import type { MappingOptions } from './mapping/delivery-input.ts';
import { compareBySignOff } from './mapping/order-signed-reports.ts';
import { patientKey } from './mapping/patient-key.ts';
import { patientLabel } from './patient-label.ts';

/** The audit page's columns an attempt records once it has read the study (schema.ts `deliveries`). */
export type DeliverySearchKeys = {
  patientLabel: string | null;
  mrnHash: string | null;
  accession: string | null;
  signedAt: number | null;
  isAddendum: boolean | null;
};

type KeyOptions = Pick<MappingOptions, 'identifierSystemBase' | 'mrnSystem' | 'accessionSystem' | 'accessionMetadataKey'>;

/**
 * What a person searches and groups this delivery by. The patient is the one the delivery
 * resolves (the MRN, else the external patient id), kept only as a label and a keyed hash. The
 * accession is the integrator's (an EHR order's study carries the order's accession there too).
 */
export function deliverySearchKeys(study: Study, reports: readonly Report[], reportId: string, options: KeyOptions, mrnHashKey: Buffer): DeliverySearchKeys {
  const signed = reports.filter((r) => r.signedAt).sort(compareBySignOff);
  const latest = signed.at(-1);
  const key = patientKey(study, latest?.snapshotMetadata, options);
  const report = reports.find((r) => r.reportId === reportId);
  const signedAt = report?.signedAt ? Date.parse(report.signedAt) : NaN;
  return {
    patientLabel: patientLabel(currentMetadata(study, latest?.snapshotMetadata).patientName, key?.value),
    mrnHash: key ? hashMrn(mrnHashKey, key.value) : null,
    accession: study.metadata?.[options.accessionMetadataKey]?.trim() || null,
    signedAt: Number.isFinite(signedAt) ? signedAt : null,
    isAddendum: report ? report.isAddendum : null,
  };
}
