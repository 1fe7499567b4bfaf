import type { Coding } from '@medplum/fhirtypes';
import { DICOM_DCM } from './code-systems.ts';

// DICOM PS3.3 C.7.3.1.1.1 defined terms for Modality (0008,0060), current (non-retired) ones.
const DICOM_MODALITIES: ReadonlySet<string> = new Set([
  'ANN', 'AR', 'ASMT', 'AU', 'BDUS', 'BI', 'BMD', 'CFM', 'CR', 'CT', 'CTPROTOCOL', 'DMS', 'DG', 'DOC',
  'DX', 'ECG', 'EEG', 'EMG', 'EOG', 'EPS', 'ES', 'FID', 'GM', 'HC', 'HD', 'IO', 'IOL', 'IVOCT', 'IVUS',
  'KER', 'KO', 'LEN', 'LS', 'M3D', 'MG', 'MR', 'NM', 'OAM', 'OCT', 'OP', 'OPM', 'OPT', 'OPTBSV',
  'OPTENF', 'OPV', 'OSS', 'OT', 'PA', 'PLAN', 'POS', 'PR', 'PT', 'PX', 'REG', 'RESP', 'RF', 'RG',
  'RTDOSE', 'RTIMAGE', 'RTINTENT', 'RTPLAN', 'RTRAD', 'RTRECORD', 'RTSEGANN', 'RTSTRUCT', 'RWV',
  'SEG', 'SM', 'SMR', 'SR', 'SRF', 'STAIN', 'TEXTUREMAP', 'TG', 'US', 'VA', 'XA', 'XAPROTOCOL', 'XC',
]);

/**
 * Avara's `modality` is free text. Only a real DICOM code becomes a Coding; "MRI" or "CT/PET" are
 * dropped rather than guessed (fhir-mapping.md "ImagingStudy").
 */
export function dicomModalityCoding(modality: string | null | undefined): Coding | undefined {
  const code = modality?.trim().toUpperCase();
  return code && DICOM_MODALITIES.has(code) ? { system: DICOM_DCM, code } : undefined;
}
