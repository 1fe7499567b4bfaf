import { z } from 'zod';

// avara-api.md §7.3.5–7.3.7: the `data` of the synchronous events we answer from the EHR.
// Unknown keys are ignored (Avara may add some); an empty string counts as absent.
const optionalText = z.string().trim().max(200).optional().transform((v) => (v ? v : undefined));
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const EnrichmentRequestSchema = z.object({
  studyInstanceUid: z.string().trim().min(1).max(64),
  accessionNumber: optionalText,
  patientId: optionalText,
});

export const ClinicalContextRequestSchema = z.object({
  studyId: z.string().max(64).optional(),
  studyInstanceUid: z.string().trim().min(1).max(64),
  externalPatientId: optionalText,
  mrn: optionalText,
});

export const WorklistRequestSchema = z.object({
  callingAe: z.string().trim().min(1).max(64),
  dateStart: date,
  dateEnd: date,
  modality: optionalText,
}).refine((d) => d.dateStart <= d.dateEnd, { message: 'dateStart after dateEnd', path: ['dateEnd'] });

export const SYNC_ANSWERED_TYPES = ['patient_study.enrichment_requested', 'clinical_context.enrichment_requested', 'modality_worklist.requested'] as const;
export type SyncAnsweredType = (typeof SYNC_ANSWERED_TYPES)[number];
