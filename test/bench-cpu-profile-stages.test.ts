import { describe, expect, it } from 'vitest';
import { addStageTimes, cpuMsByStage, OTHER_STAGE, scriptOf, timeByStage, type CpuProfile } from '../bench/cpu-profile-stages.ts';

const ROOT = 'file:///work/main';
type Frame = [id: number, functionName: string, url: string, children: number[]];

// A small profile: root -> deliverReport -> validateDeliveryBundle -> medplum validateResource,
// deliverReport -> sendAttempt (shared upstream code) -> fetch (undici) under the FHIR client,
// a fetch callback from the event loop with no caller, GC and idle.
function profile(samples: number[], deltasUs: number[]): CpuProfile {
  const frames: Frame[] = [
    [1, '(root)', '', [2, 7, 8, 9]],
    [2, 'deliverReport', `${ROOT}/src/deliveries/deliver-report.ts`, [3, 5]],
    [3, 'validateDeliveryBundle', `${ROOT}/src/fhir/validate-resource.ts`, [4]],
    [4, 'validateResource', `${ROOT}/node_modules/@medplum/core/dist/esm/index.mjs`, []],
    [5, 'executeBatch', `${ROOT}/src/fhir/fhir-client.ts`, [6]],
    [6, 'sendAttempt', `${ROOT}/src/upstream/send-attempt.ts`, [10]],
    [7, 'onStreamRead', 'node:internal/deps/undici/undici', []],
    [8, '(garbage collector)', '', []],
    [9, '(idle)', '', []],
    [10, 'fetch', 'node:internal/deps/undici/undici', []],
  ];
  return {
    nodes: frames.map(([id, functionName, url, children]) => ({ id, callFrame: { functionName, url }, children })),
    startTime: 1_000,
    samples,
    timeDeltas: deltasUs,
  };
}

describe('serve CPU profile by stage', () => {
  it('names our files from the project root and packages from node_modules', () => {
    expect(scriptOf(`${ROOT}/src/fhir/validate-resource.ts`, 'x')).toBe('src/fhir/validate-resource.ts');
    expect(scriptOf(`${ROOT}/node_modules/@medplum/core/dist/esm/index.mjs`, 'x')).toBe('node_modules/@medplum/core/dist/esm/index.mjs');
    expect(scriptOf('', '(garbage collector)')).toBe('(garbage collector)');
    expect(scriptOf('node:internal/deps/undici/undici', 'fetch')).toBe('node:internal/deps/undici/undici');
  });

  it('gives each sample the stage of the frame nearest its leaf that a stage names, a library leaf its caller`s stage', () => {
    // Each sample stands for the next delta: 1 ms, 2 ms, 4 ms, 8 ms, 16 ms, 32 ms.
    const times = timeByStage(profile([4, 10, 7, 8, 9, 2, 2], [0, 1000, 2000, 4000, 8000, 16000, 32000]), { maxSampleUs: Infinity });
    expect(times).toEqual({
      validation: 1,
      'FHIR request': 2,
      'HTTP internals (node:http, sockets, parser, streams; upstream calls and the webhook server)': 4,
      'garbage collection': 8,
      idle: 16,
      'delivery attempt, other steps': 32,
    });
  });

  it('counts only samples inside the window', () => {
    // Samples at 1000, 2000, 4000, 8000 µs (start 1000 plus the deltas so far); the two inside
    // stand for the next deltas, 2 ms and 4 ms.
    const times = timeByStage(profile([4, 4, 10, 10], [0, 1000, 2000, 4000, 1000]), { window: { fromUs: 1500, toUs: 5000 }, maxSampleUs: Infinity });
    expect(times).toEqual({ validation: 2, 'FHIR request': 4 });
  });

  it('counts a late sample (the thread waited for a core or in a syscall) as at most twice the sampling interval', () => {
    expect(timeByStage(profile([4, 10, 10], [0, 1000, 50_000, 1000]))).toEqual({ validation: 1, 'FHIR request': 3 });
  });

  it('puts a sample no rule names into the catch-all stage', () => {
    expect(timeByStage(profile([1, 1], [0, 500, 0]))).toEqual({ [OTHER_STAGE]: 0.5 });
  });

  it('adds the threads` stage times', () => {
    expect(addStageTimes([{ validation: 1, SQLite: 2 }, { validation: 3 }])).toEqual({ validation: 4, SQLite: 2 });
  });

  it('scales busy shares to the measured CPU, leaving idle and startup out, largest first', () => {
    const rows = cpuMsByStage({ idle: 100, 'startup (module loading)': 50, validation: 3, SQLite: 1 }, 8);
    expect(rows).toEqual([
      { stage: 'validation', ms: 6, share: 0.75 },
      { stage: 'SQLite', ms: 2, share: 0.25 },
    ]);
    expect(cpuMsByStage({ idle: 5 }, 8)).toEqual([]);
  });
});
