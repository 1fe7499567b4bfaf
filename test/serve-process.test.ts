import { afterEach, describe, expect, it } from 'vitest';
import { startChildAppHarness, type ChildAppHarness } from './support/child-app-harness.ts';
import { waitFor } from './support/wait-for.ts';

// `avara-fhir-sync serve` as a real child process, configured only through its environment.
describe('avara-fhir-sync serve', () => {
  let harness: ChildAppHarness;
  afterEach(() => harness.stop());

  it('delivers against any Avara and FHIR base URL given in the environment, and exits 0 on SIGTERM', async () => {
    harness = await startChildAppHarness({ seed: 3 });
    const served = await harness.start({ entry: 'serve' });
    expect((await fetch(`${harness.url}/readyz`)).status).toBe(200);
    const [signed] = await harness.sandbox.signReports(1);
    const delivered = await waitFor('the delivery over the API', async () => {
      const response = await fetch(`${harness.url}/api/deliveries/${signed!.reportId}`);
      const delivery = response.ok ? ((await response.json()) as { state: string }) : undefined;
      return delivery?.state === 'delivered' && delivery;
    }, 20_000);
    expect(delivered?.state).toBe('delivered');
    served.process.kill('SIGTERM');
    expect((await served.exited).code).toBe(0);
  });
});
