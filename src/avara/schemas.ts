import { z } from 'zod';

// Response schemas for the parts of Avara's API this service reads (avara-api.md §5, §6).
// Parsed leniently: unknown keys are dropped, enums are open strings (§1.6 "treat every enum as
// open"), nullable timestamps tolerated. What the pipeline relies on is required.

const AvaraId = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-fA-F]{32}$`), `expected ${prefix}_<32 hex>`);
export const StudyIdSchema = AvaraId('stu');
export const ReportIdSchema = AvaraId('rep');
export const UserIdSchema = AvaraId('usr');

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const Timestamp = z.string().min(1);

export const ReportMetadataSchema = z.object({
  patientName: z.string().optional(),
  mrn: z.string().optional(),
  dateOfBirth: IsoDate.optional(),
  age: z.string().optional(),
  sex: z.string().optional(),
  height: z.object({ unit: z.string(), value: z.number() }).optional(),
  weight: z.object({ unit: z.string(), value: z.number() }).optional(),
  facilityName: z.string().optional(),
  referringPhysicianName: z.string().optional(),
  procedure: z.string().optional(),
  studyDate: IsoDate.optional(),
  studyTime: z.string().regex(/^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/).optional(),
});
export type ReportMetadata = z.infer<typeof ReportMetadataSchema>;

export const UserReferenceSchema = z.object({
  userId: UserIdSchema,
  email: z.string(),
  firstName: z.string().optional(),
  middleName: z.string().optional(),
  lastName: z.string().optional(),
  suffix1: z.string().optional(),
  suffix2: z.string().optional(),
});
export type UserReference = z.infer<typeof UserReferenceSchema>;

export const ReportIdWithStatusSchema = z.object({
  reportId: ReportIdSchema,
  status: z.string(),
  isCritical: z.boolean().nullable(),
});

export const PriorReportSchema = z.object({
  reportText: z.string(),
  externalStudyId: z.string().optional(),
  modality: z.string().optional(),
  studyDate: z.string().optional(),
  studyDescription: z.string().optional(),
});

export const StudySchema = z.object({
  studyId: StudyIdSchema,
  studyInstanceUid: z.string().min(1),
  studyDescription: z.string(),
  severity: z.string(),
  studyReportStatus: z.string(),
  isCancelled: z.boolean(),
  cancelledAt: Timestamp.nullable(),
  createdAt: Timestamp.nullable(),
  updatedAt: Timestamp.nullable(),
  reportMetadata: ReportMetadataSchema,
  reportIds: z.array(ReportIdWithStatusSchema).optional(),
  isCritical: z.boolean().optional(),
  assignedTo: UserReferenceSchema.nullable().optional(),
  externalPatientId: z.string().nullable().optional(),
  externalReportId: z.string().optional(),
  studyType: z.string().optional(),
  modality: z.string().nullable().optional(),
  clinicalIndication: z.string().nullable().optional(),
  clinicalHistory: z.string().nullable().optional(),
  technologistTechnique: z.string().nullable().optional(),
  technologistNotes: z.array(z.string()).optional(),
  priorReports: z.array(PriorReportSchema).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type Study = z.infer<typeof StudySchema>;

export const ReportSchema = z.object({
  reportId: ReportIdSchema,
  studyId: StudyIdSchema,
  status: z.string(),
  isAddendum: z.boolean(),
  isCritical: z.boolean().nullable(),
  createdAt: Timestamp.nullable(),
  updatedAt: Timestamp.nullable(),
  signedAt: Timestamp.nullable(),
  userId: UserIdSchema,
  snapshotMetadata: ReportMetadataSchema,
  reportPlainText: z.string().optional(),
});
export type Report = z.infer<typeof ReportSchema>;

export const ReportListSchema = z.object({
  studyId: StudyIdSchema,
  studyInstanceUid: z.string(),
  reports: z.array(ReportSchema),
});
export type ReportList = z.infer<typeof ReportListSchema>;

// The fields §5.9 (text) and §5.10 (PDF) items share.
const ReportItemBaseSchema = z.object({
  reportId: ReportIdSchema,
  studyId: StudyIdSchema,
  studyInstanceUid: z.string(),
  isCritical: z.boolean().nullable(),
  snapshotMetadata: ReportMetadataSchema,
});

export const ReportTextItemSchema = ReportItemBaseSchema.extend({
  plainText: z.string().optional(),
});
export type ReportTextItem = z.infer<typeof ReportTextItemSchema>;

export const ReportPdfItemSchema = ReportItemBaseSchema.extend({
  presignedUrl: z.string().url(),
});
export type ReportPdfItem = z.infer<typeof ReportPdfItemSchema>;

/** §9.6 user record: the reference fields plus what signing needs (NPI). */
export const UserSchema = UserReferenceSchema.extend({
  npiNumber: z.string().optional(),
});
export type User = z.infer<typeof UserSchema>;

export const StudyPageSchema = z.object({
  studies: z.array(StudySchema).optional().default([]),
  cursor: z.string().optional().default(''),
  hasMore: z.boolean().optional().default(false),
});

// Webhooks (§7.1, §7.3.1)
export const WebhookEnvelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
});
export type WebhookEnvelope = z.infer<typeof WebhookEnvelopeSchema>;

export const ReportDeliveredDataSchema = z.object({
  studyId: StudyIdSchema,
  reportId: ReportIdSchema,
  isCritical: z.boolean(),
  presignedUrl: z.string().url(),
  plainText: z.string().optional(),
});
export type ReportDeliveredData = z.infer<typeof ReportDeliveredDataSchema>;
