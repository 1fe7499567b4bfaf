import { z } from 'zod';

// Request bodies of the study writes (avara-api.md §9.1 create/PATCH, §9.7 viewer create) with
// the documented limits (§5.1, §5.5, §5.7). The sandbox validates with them; the client and the
// order mapping use their types. Strict objects: an unknown key is our bug, not Avara's.

const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');
const Severity = z.enum(['normal', 'high', 'stat']);
const text = (max: number) => z.string().min(1).max(max);
const userId = z.string().regex(/^usr_[0-9a-fA-F]{32}$/, 'must be usr_<32 hex>');
const customerId = z.string().regex(/^cus_[0-9a-fA-F]{32}$/, 'must be cus_<32 hex>');

const reportMetadataFields = {
  patientName: z.string(),
  mrn: z.string(),
  dateOfBirth: IsoDate,
  age: z.string(),
  sex: z.enum(['male', 'female', 'other']),
  height: z.object({ unit: z.enum(['in', 'cm']), value: z.number().min(0) }).strict(),
  weight: z.object({ unit: z.enum(['lbs', 'kg']), value: z.number().min(0) }).strict(),
  facilityName: z.string(),
  referringPhysicianName: z.string(),
  procedure: z.string(),
  studyDate: IsoDate,
  studyTime: z.string().regex(/^\d{2}:\d{2}$/, 'must be HH:MM'),
};
type MetadataKey = keyof typeof reportMetadataFields;
export const REPORT_METADATA_KEYS = Object.keys(reportMetadataFields) as MetadataKey[];

export const ReportMetadataInputSchema = z.object(reportMetadataFields).partial().strict();
/** §5.1 "In PATCH bodies every one of these may also be null to clear it." */
export const ReportMetadataPatchSchema = z
  .object(Object.fromEntries(REPORT_METADATA_KEYS.map((k) => [k, reportMetadataFields[k].nullable()])) as {
    [K in MetadataKey]: z.ZodNullable<(typeof reportMetadataFields)[K]>;
  })
  .partial()
  .strict();

export const PriorReportInputSchema = z.object({
  reportText: text(50_000),
  externalStudyId: text(256).optional(),
  modality: text(100).optional(),
  studyDate: IsoDate.optional(),
  studyDescription: text(1000).optional(),
}).strict();
export type PriorReportInput = z.infer<typeof PriorReportInputSchema>;

const StudyMetadataSchema = z
  .record(z.string().min(1).max(100), z.string().max(1000))
  .refine((m) => Object.keys(m).length <= 50, 'at most 50 pairs');

const optionalCreateFields = {
  assignedTo: userId,
  expressCustomerId: customerId,
  externalPatientId: z.string().min(1),
  modality: z.string().min(1),
  clinicalIndication: z.string(),
  clinicalHistory: z.string(),
  technologistTechnique: z.string(),
  technologistNotes: z.array(z.string().max(1000)).max(50),
  priorReports: z.array(PriorReportInputSchema).max(50),
  metadata: StudyMetadataSchema,
};

export const StudyCreateBodySchema = z.object({
  reportMetadata: ReportMetadataInputSchema,
  severity: Severity,
  studyDescription: z.string().min(1),
  studyInstanceUid: z.string().min(1),
  ...z.object(optionalCreateFields).partial().shape,
}).strict();
export type StudyCreateBody = z.infer<typeof StudyCreateBodySchema>;

/** §9.1 PATCH: every create field but the UID; nullable scalars may be null; arrays replace. */
export const StudyPatchBodySchema = z.object({
  reportMetadata: ReportMetadataPatchSchema,
  severity: Severity,
  studyDescription: z.string().min(1),
  ...optionalCreateFields,
  assignedTo: userId.nullable(),
  expressCustomerId: customerId.nullable(),
  externalPatientId: z.string().min(1).nullable(),
  modality: z.string().min(1).nullable(),
  clinicalIndication: z.string().nullable(),
  clinicalHistory: z.string().nullable(),
  technologistTechnique: z.string().nullable(),
}).partial().strict();
export type StudyPatchBody = z.infer<typeof StudyPatchBodySchema>;

export const ViewerStudyCreateBodySchema = z.object({
  severity: Severity,
  studyDescription: z.string().min(1),
  studyInstanceUid: z.string().min(1),
  assignedTo: userId.optional(),
  expressCustomerId: customerId.optional(),
  metadata: StudyMetadataSchema.optional(),
}).strict();
export type ViewerStudyCreateBody = z.infer<typeof ViewerStudyCreateBodySchema>;

/** §9.7 Viewer study, parsed leniently like every response. */
export const ViewerStudySchema = z.object({
  studyId: z.string().regex(/^stu_[0-9a-fA-F]{32}$/),
  studyInstanceUid: z.string().min(1),
  studyDescription: z.string(),
  severity: z.string(),
  studyViewerStatus: z.string(),
  isCancelled: z.boolean(),
  cancelledAt: z.string().nullable(),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type ViewerStudy = z.infer<typeof ViewerStudySchema>;

/** `{success, message?}` of the status-change verbs (§1.3). */
export const SuccessAnswerSchema = z.object({ success: z.boolean(), message: z.string().optional() });

/** First issue as "path: message", never the value (it may be patient data). */
export function describeBodyIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'body: invalid';
  return `${issue.path.join('.') || 'body'}: ${issue.message}`;
}
