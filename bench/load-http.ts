import type { Agent } from 'node:http';
import { httpRequest, keepAliveAgent } from './http-request.ts';

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
}

/**
 * Closed loop, like autocannon: `connections` keep-alive connections, each sending the next
 * prepared request as soon as its previous answer arrived, for `seconds`.
 */
export async function loadClosedLoop(url: string, requests: PreparedRequest[], connections: number, seconds: number): Promise<LoadResult> {
  const agent = keepAliveAgent(connections);
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const lane = async () => {
    while (performance.now() < deadline) {
      if (next >= requests.length) throw new Error(`only ${requests.length} requests prepared; the server was faster`);
      const sentAt = performance.now();
      if (!(await send(agent, url, requests[next++]!))) errors += 1;
      latencies.push(performance.now() - sentAt);
    }
  };
  await Promise.all(Array.from({ length: connections }, lane));
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return summarize(latencies, elapsed, errors);
}

/**
 * Open loop at a fixed rate: request i is due at i/rate seconds and its latency counts from
 * then, so a stalled server is charged for the requests it kept waiting (no coordinated omission).
 */
export async function loadFixedRate(url: string, requests: PreparedRequest[], ratePerSec: number, seconds: number): Promise<LoadResult> {
  const agent = keepAliveAgent(64);
  const count = Math.min(requests.length, Math.round(ratePerSec * seconds));
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const dueAt = started + (i * 1000) / ratePerSec;
    const wait = dueAt - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    inFlight.push(send(agent, url, requests[i]!).then((ok) => {
      if (!ok) errors += 1;
      latencies.push(performance.now() - dueAt);
    }));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return summarize(latencies, (performance.now() - started) / 1000, errors);
}

async function send(agent: Agent, url: string, request: PreparedRequest): Promise<boolean> {
  try {
    const answer = await httpRequest(agent, url, { method: 'POST', headers: request.headers, body: request.body });
    return answer.status === 200;
  } catch {
    return false;
  }
}

function summarize(latencies: number[], seconds: number, errors: number): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  return { perSec: (latencies.length - errors) / seconds, p50Ms: at(0.5), p99Ms: at(0.99), requests: latencies.length, errors };
}
