import type { FaultSpec } from './fault-switches.ts';
import type { PdfSwitches } from './sandbox-context.ts';
import type { SandboxReport, SandboxStudy, SandboxViewerStudy, SignedRef } from './sandbox-types.ts';
import type { SignOptions } from './sign-reports.ts';
import type { WebhookOutcome } from './webhook-sender.ts';

/** A running sandbox, as the demo, the tests and its own control routes drive it. */
export interface Sandbox {
  baseUrl: string;
  apiKey: string;
  webhookKey: string;
  controlUrl: string;
  signReports(count: number, options?: SignOptions): Promise<SignedRef[]>;
  failNext(route: string, spec: FaultSpec): void;
  /** Every n-th Avara API call, whatever its route, suffers `spec` (e.g. 429 on every third call). */
  failEvery(n: number, spec: FaultSpec): void;
  clearFaults(): void;
  setWebhookDrop(ratio: number | boolean): void;
  setWebhookUrl(url: string | null): void;
  setPdfBehaviour(change: { [K in keyof PdfSwitches]?: PdfSwitches[K] | undefined }): void;
  /** Study list pages repeat the previous page's last item and come in shuffled order. */
  setPageChaos(enabled: boolean): void;
  /** Studies created through the API get their report signed `delayMs` later (webhook sent); null: off. */
  setAutoSign(setting: { delayMs: number } | null): void;
  /** The live Viewer study of a UID, if one was created. */
  getViewerStudyByUid(studyInstanceUid: string): SandboxViewerStudy | undefined;
  requestCounts(): Record<string, number>;
  resetCounts(): void;
  /** The live study object the API serves: mutate it to cancel, edit demographics, add metadata. */
  getStudyState(studyId: string): SandboxStudy;
  /** The live report record (`report` as served by /reports, plus `plainText`): mutate to test edge cases. */
  getReportState(reportId: string): SandboxReport;
  /** Every report the sandbox holds (tests compute expected subsets from it). */
  allReportStates(): SandboxReport[];
  pdfBytes(reportId: string): Uint8Array;
  resendWebhook(webhookId: string): Promise<WebhookOutcome>;
  webhookOutcomes(): WebhookOutcome[];
  stop(): Promise<void>;
}
