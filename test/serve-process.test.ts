import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../src/avara/sandbox/start-sandbox.ts';
import { startFhirServer, type EmbeddedFhirServer } from '../src/fhir/embedded/start-fhir-server.ts';
import { SERVE_TEST_SETTINGS } from './support/serve-test-settings.ts';

/** `avara-fhir-sync serve` as a real child process, configured only through its environment. */
function startServe(env: Record<string, string>): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, ['src/cli-entry.mjs', 'serve'], { env: { PATH: process.env.PATH ?? '', ...env } });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; address?: string };
      if (entry.msg === 'avara-fhir-sync listening' && entry.address) resolve({ child, url: entry.address });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
}

describe('avara-fhir-sync serve', () => {
  let dir: string;
  let sandbox: Sandbox;
  let fhir: EmbeddedFhirServer;
  let child: ChildProcessWithoutNullStreams | undefined;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'afs-serve-'));
    fhir = await startFhirServer({ port: 0 });
    sandbox = await startSandbox({ port: 0, seed: 3 });
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await sandbox.stop();
    await fhir.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers against any Avara and FHIR base URL given in the environment, and exits 0 on SIGTERM', async () => {
    const served = await startServe({
      AVARA_BASE_URL: sandbox.baseUrl,
      AVARA_API_KEY: sandbox.apiKey,
      AVARA_WEBHOOK_KEY: sandbox.webhookKey,
      FHIR_BASE_URL: fhir.baseUrl,
      SQLITE_PATH: join(dir, 'state.db'),
      PORT: '0',
      ...SERVE_TEST_SETTINGS,
    });
    child = served.child;
    expect((await fetch(`${served.url}/readyz`)).status).toBe(200);
    sandbox.setWebhookUrl(`${served.url}/webhooks/avara`);
    const [signed] = await sandbox.signReports(1);
    const deadline = Date.now() + 20_000;
    let delivered: { state: string } | undefined;
    while (Date.now() < deadline && delivered?.state !== 'delivered') {
      const response = await fetch(`${served.url}/api/deliveries/${signed!.reportId}`);
      delivered = response.ok ? ((await response.json()) as { state: string }) : undefined;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(delivered?.state).toBe('delivered');
    const exit = new Promise<number | null>((resolve) => served.child.once('exit', resolve));
    served.child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
