import { forkRpcChild } from '../child-rpc.ts';
import { httpRequest, keepAliveAgent } from '../http-request.ts';
import { runLanes } from '../run-lanes.ts';
import { cpuMs } from '../process-cpu.ts';

// The headers the product's FHIR client sends with a delivery transaction, return=minimal included:
// the ceiling must be asked for no more work than the product asks for.
const FHIR_HEADERS = { 'content-type': 'application/fhir+json', accept: 'application/fhir+json', prefer: 'return=minimal' };

/**
 * Reports per second the embedded FHIR store accepts when sent nothing but the delivery
 * transactions, `concurrency` at a time, into a fresh store in its own process.
 */
export async function measureFhirCeiling(bodies: Buffer[], concurrency: number): Promise<{ perSec: number; fhirCpuMsPerReport: number }> {
  const fhir = await forkRpcChild<{ baseUrl: string }>('fhir-child.ts');
  const agent = keepAliveAgent(concurrency);
  try {
    const cpuBefore = cpuMs(fhir.pid);
    const started = performance.now();
    await runLanes(bodies.length, concurrency, async (index) => {
      const answer = await httpRequest(agent, fhir.info.baseUrl, { method: 'POST', headers: FHIR_HEADERS, body: bodies[index] });
      const bundle = JSON.parse(answer.body.toString('utf8')) as { type?: string };
      if (answer.status !== 200 || bundle.type !== 'transaction-response') throw new Error(`FHIR answered ${answer.status} to bundle ${index}`);
    });
    const seconds = (performance.now() - started) / 1000;
    return { perSec: bodies.length / seconds, fhirCpuMsPerReport: (cpuMs(fhir.pid) - cpuBefore) / bodies.length };
  } finally {
    agent.destroy();
    await fhir.stop();
  }
}
