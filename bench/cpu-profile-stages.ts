/** The parts of a V8 `.cpuprofile` (node --cpu-prof) the stage breakdown reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface StageRule {
  stage: string;
  /** Matches a frame by its script (relative to the project for our own files) and function name. */
  matches(script: string, functionName: string): boolean;
}

const under = (...prefixes: string[]) => (script: string) => prefixes.some((p) => script.startsWith(p));
const rule = (stage: string, test: (script: string, fn: string) => boolean): StageRule => ({ stage, matches: test });

/**
 * Stages of serve's own work. The frame nearest the sample's leaf that one of these names decides:
 * medplum's bundle is one file for both its validator and its client, so `validateResource` under
 * validate-resource.ts is validation and `executeBatch` under fhir-client.ts is the FHIR request.
 */
export const SERVE_STAGES: readonly StageRule[] = [
  rule('one-time: FHIR definitions index', (s, fn) => s === 'src/fhir/validate-resource.ts' && fn === 'loadR4Definitions'),
  rule('validation', under('src/fhir/validate-resource.ts', 'src/fhir/check-base64.ts')),
  rule('hashing (content hash)', under('src/deliveries/mapping/delivery-content-hash.ts')),
  rule('mapping (incl. base64 + SHA-1 of the PDF)', under('src/deliveries/mapping/')),
  rule('PDF download and checks', under('src/avara/download-pdf.ts', 'src/avara/check-pdf-url.ts')),
  rule('Avara calls', under('src/avara/', 'src/deliveries/gather-signed-reports.ts')),
  rule('SQLite', under('src/store/', 'node_modules/better-sqlite3/', 'node_modules/drizzle-orm/')),
  rule('FHIR request', under('src/fhir/', 'src/deliveries/post-delivery-bundle.ts')),
  rule('job loop and thread messages', under('src/queue/', 'src/deliveries/worker-thread/', 'src/deliveries/delivery-worker.ts')),
  rule('webhook intake and HTTP routes', under('src/http/', 'src/deliveries/intake.ts', 'node_modules/express/', 'node_modules/router/', 'node_modules/body-parser/', 'node_modules/standardwebhooks/')),
  rule('logging and metrics', under('node_modules/pino', 'node_modules/@pinojs/', 'node_modules/prom-client/', 'src/metrics/', 'src/create-logger.ts')),
  // src/upstream/ (the retry loop and the node:http transport both clients share) is left to its caller.
  rule('delivery attempt, other steps', (s) => s.startsWith('src/') && !s.startsWith('src/upstream/')),
];

/**
 * For samples with none of serve's own frames on their stack: callbacks that run from the event
 * loop (socket reads, body streams, promise jobs), which no profile ties to their caller.
 */
export const UNATTRIBUTED_STAGES: readonly StageRule[] = [
  rule('idle', (s) => s === '(idle)'),
  rule('garbage collection', (s) => s === '(garbage collector)'),
  rule('startup (module loading)', under('node:internal/modules/', 'node_modules/tsx/', 'node_modules/esbuild/')),
  rule('HTTP internals (node:http, sockets, parser, streams; upstream calls and the webhook server)', under('src/upstream/', 'node:internal/deps/undici/', 'node:internal/webstreams/', 'node:internal/encoding', 'node:http', 'node:_http', 'node:net', 'node:internal/streams/')),
  rule('thread messages', under('node:internal/worker/', 'node:internal/per_context/messageport')),
];

export const OTHER_STAGE = 'runtime, other (microtasks, natives, program)';

/** A frame's script as the rules see it: our files relative to the project, node_modules from there on. */
export function scriptOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + 1);
  const project = /\/(src|bench|test)\//.exec(url);
  if (url.startsWith('file://') && project) return url.slice(project.index + 1);
  return url;
}

export interface StageOptions {
  stages?: readonly StageRule[];
  unattributed?: readonly StageRule[];
  /** Keeps only samples taken within it (the profile's own clock, µs). */
  window?: { fromUs: number; toUs: number };
  /**
   * The most a sample stands for (µs), best twice the sampling interval (default 1 ms). V8
   * samples on a wall clock: a thread that waits for a core (or sits in fsync) takes its next
   * sample late, and that sample's delta covers the wait; capped, it counts about its CPU.
   */
  maxSampleUs?: number;
}

/**
 * Milliseconds of profile time by stage: each sample goes to the stage of the frame nearest its
 * leaf that `stages` names, else to the nearest `unattributed` one, else to `OTHER_STAGE`.
 */
export function timeByStage(profile: CpuProfile, options: StageOptions = {}): Record<string, number> {
  const { stages = SERVE_STAGES, unattributed = UNATTRIBUTED_STAGES, window, maxSampleUs = 2000 } = options;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const stageOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = stageOf.get(id);
    if (known !== undefined) return known;
    let own: string | undefined;
    let fallback: string | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const { url, functionName } = byId.get(at)!.callFrame;
      const script = scriptOf(url, functionName);
      own = stages.find((r) => r.matches(script, functionName))?.stage;
      if (own) break;
      fallback ??= unattributed.find((r) => r.matches(script, functionName))?.stage;
    }
    const stage = own ?? fallback ?? OTHER_STAGE;
    stageOf.set(id, stage);
    return stage;
  };
  const ms: Record<string, number> = {};
  // timeDeltas[i] is the time before sample i; the time a sample stands for is the next delta.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const stage = resolve(profile.samples[i]!);
    ms[stage] = (ms[stage] ?? 0) + Math.min(profile.timeDeltas[i + 1] ?? 0, maxSampleUs) / 1000;
  }
  return ms;
}

/** Sums stage times of several profiles (one per thread). */
export function addStageTimes(parts: Record<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const part of parts) for (const [stage, ms] of Object.entries(part)) sum[stage] = (sum[stage] ?? 0) + ms;
  return sum;
}

/**
 * Stage shares of the busy time (idle and startup left out), scaled to `cpuMsPerReport` measured
 * from /proc without the profiler: the profile says where, /proc says how much.
 */
export function cpuMsByStage(times: Record<string, number>, cpuMsPerReport: number): { stage: string; ms: number; share: number }[] {
  const busy = Object.entries(times).filter(([stage]) => stage !== 'idle' && !stage.startsWith('startup'));
  const total = busy.reduce((sum, [, ms]) => sum + ms, 0);
  if (total === 0) return [];
  return busy
    .map(([stage, ms]) => ({ stage, ms: (ms / total) * cpuMsPerReport, share: ms / total }))
    .sort((a, b) => b.ms - a.ms);
}
