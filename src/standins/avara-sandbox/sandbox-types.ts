import type { Report, Study, User } from '../../avara/schemas.ts';

/** A study as the sandbox stores and serves it: the §5.7 shape including fields our schema drops. */
export type SandboxStudy = Study & {
  createdByApiKey?: { apiKeyId: string; description: string; isViewerEnabled?: boolean } | null;
  createdByUser?: null;
  expressCustomer?: { expressCustomerId: string; expressCustomerName: string } | null;
};

/** A §9.7 Viewer study. */
export interface SandboxViewerStudy {
  studyId: string;
  studyInstanceUid: string;
  studyDescription: string;
  severity: string;
  studyViewerStatus: 'incomplete' | 'complete';
  isCancelled: boolean;
  cancelledAt: string | null;
  createdAt: string;
  updatedAt: string;
  metadata?: Record<string, string>;
}

/** A report and what only the sandbox knows about it. */
export interface SandboxReport {
  report: Report;                  // §5.8 without reportPlainText (added when served)
  plainText: string | undefined;
  studyInstanceUid: string;
}

/** The full §9.6 user object. */
export type SandboxUser = User & {
  firstName: string;
  lastName: string;
  clinicRole: string;
  level: string;
  canCreateReports: boolean;
  canManageStudies: boolean;
  hasDashboardAccess: boolean;
  invitedSource: string;
  createdAt: string | null;
  lastLoginAt: string | null;
};

export interface SignedRef {
  studyId: string;
  reportId: string;
  webhookId: string;
  isAddendum: boolean;
}

/** Avara's timestamps are second-precision UTC with a Z suffix (§1.5). */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
