import type { FaultSwitches } from './fault-switches.ts';
import type { Presigner } from './presigned-link.ts';
import type { SandboxState } from './sandbox-state.ts';
import type { SandboxStudy } from './sandbox-types.ts';

/** Switches that change how presigned PDF links and files behave (tests of the download path). */
export interface PdfSwitches {
  linkTtlSeconds: number;
  servesHtml: boolean;
  omitContentLength: boolean;   // stream in chunks without Content-Length
  host: string | null;          // hand out links to this host[:port] instead of the sandbox's own
  realisticSizes: boolean;      // PDFs of 100-300 KB, as Avara's real ones (benchmarks)
}

/** Everything the sandbox's route modules share. */
export interface SandboxContext {
  state: SandboxState;
  faults: FaultSwitches;
  presigner: Presigner;
  pdf: PdfSwitches;
  /** avara-api.md §10: pages may repeat or reorder items; tests switch that on. */
  pageChaos: { enabled: boolean };
  apiKey: string;
  now: () => Date;
  ownOrigin: () => string;      // http://host:port the sandbox listens on
  /** Told about every study created through the API (the auto-sign switch listens). */
  onStudyCreated: (study: SandboxStudy) => void;
}

export function nowSeconds(ctx: SandboxContext): number {
  return Math.floor(ctx.now().getTime() / 1000);
}

/** Base of presigned links: the sandbox itself unless a host override is set (port kept if absent). */
export function pdfBaseUrl(ctx: SandboxContext): string {
  const own = new URL(ctx.ownOrigin());
  if (!ctx.pdf.host) return own.origin;
  const hasPort = /:\d+$/.test(ctx.pdf.host) && !/^[^[]*:.*:/.test(ctx.pdf.host);
  return `${own.protocol}//${hasPort ? ctx.pdf.host : `${ctx.pdf.host}:${own.port}`}`;
}
