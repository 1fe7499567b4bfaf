import { forkRpcChild, type RpcChild } from '../child-rpc.ts';
import { checkReplayAnswer, groupByStudy, isTransaction, type ReportRequests } from '../fhir-replay.ts';
import { httpRequest, keepAliveAgent } from '../http-request.ts';
import { cpuMs } from '../process-cpu.ts';
import { startRecordingProxy } from '../recording-proxy.ts';
import { runLanes } from '../run-lanes.ts';
import { measureProduct, type SandboxInfo } from './delivery-product.ts';

export interface RecordedDeliveries {
  /** Per report, the FHIR requests serve made, in order. */
  reports: ReportRequests[];
  /** The FHIR base path (`/fhir/R4`): a POST to it is the transaction. */
  basePath: string;
}

/**
 * What the product asks of the EHR per report, recorded: serve delivers `reportIds` (default
 * WORKER_CONCURRENCY) through a recording proxy into a fresh store, and the requests are grouped
 * by report (groupByStudy). Not timed.
 */
export async function recordProductRequests(sandbox: RpcChild<SandboxInfo>, reportIds: string[]): Promise<RecordedDeliveries> {
  let basePath = '';
  let recorded: ReportRequests = [];
  await measureProduct(sandbox, reportIds, {}, async (fhirBaseUrl) => {
    const base = new URL(fhirBaseUrl);
    basePath = base.pathname;
    const proxy = await startRecordingProxy(base.origin);
    return {
      fhirBaseUrl: `${proxy.url}${base.pathname}`,
      startRecording: () => void (proxy.recording = true),
      stop: async () => {
        recorded = proxy.recorded;
        await proxy.stop();
      },
    };
  });
  const reports = groupByStudy(recorded, basePath);
  if (reports.length !== reportIds.length) throw new Error(`recorded ${reports.length} deliveries for ${reportIds.length} reports`);
  return { reports, basePath };
}

/** The transaction bodies of the recorded deliveries: the bare-bundle ceiling posts exactly these. */
export function transactionBodies(recorded: RecordedDeliveries): Buffer[] {
  return recorded.reports.map((requests) => requests.find((r) => isTransaction(r, recorded.basePath))!.body);
}

/**
 * Reports per second a fresh store (own process, own core when pinned) answers when a bare HTTP
 * client replays each report's recorded requests in order, `concurrency` reports at a time:
 * everything the product asks (searches, transaction with `Prefer: return=minimal`, read-back)
 * and nothing of what the product does around it. Each answer is checked as the product would.
 */
export async function measureReplayCeiling(recorded: RecordedDeliveries, concurrency: number, count = recorded.reports.length): Promise<{ perSec: number; storeCpuMsPerReport: number }> {
  const fhir = await forkRpcChild<{ baseUrl: string }>('fhir-child.ts');
  const origin = new URL(fhir.info.baseUrl).origin;
  const agent = keepAliveAgent(concurrency);
  try {
    const cpuBefore = cpuMs(fhir.pid);
    const started = performance.now();
    await runLanes(count, concurrency, async (index) => {
      for (const request of recorded.reports[index]!) {
        const answer = await httpRequest(agent, `${origin}${request.path}`, {
          method: request.method, headers: request.headers, ...(request.body.length > 0 ? { body: request.body } : {}),
        });
        checkReplayAnswer(request, recorded.basePath, answer.status, answer.body);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    return { perSec: count / seconds, storeCpuMsPerReport: (cpuMs(fhir.pid) - cpuBefore) / count };
  } finally {
    agent.destroy();
    await fhir.stop();
  }
}
