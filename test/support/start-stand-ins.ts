import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/standins/avara-sandbox/start-sandbox.ts';
import { startFhirServer, type EmbeddedFhirServer, type StartFhirServerOptions } from '../../src/standins/fhir-store/start-fhir-server.ts';
import { SERVE_TEST_SETTINGS } from './serve-test-settings.ts';

export type ConnectionEnv = { AVARA_BASE_URL: string; AVARA_API_KEY: string; AVARA_WEBHOOK_KEY: string; FHIR_BASE_URL: string; SQLITE_PATH: string };

/** What the app talks to in a test: the Avara sandbox, the embedded FHIR store, a fresh temp dir. */
export interface StandIns {
  sandbox: Sandbox;
  fhir: EmbeddedFhirServer;
  dir: string;
  /** The app's SQLite file in `dir` (not created here). */
  sqlitePath: string;
  /** Where the app finds Avara, the FHIR store and its database: AVARA_*, FHIR_BASE_URL, SQLITE_PATH. */
  connectionEnv(): ConnectionEnv;
  /**
   * The environment `serve` (in process or as a child) needs to reach these stand-ins, with the
   * settings it will not default (SERVE_TEST_SETTINGS); `extra` wins.
   */
  serveEnv(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * How much the app has asked of the stand-ins so far: requests to Avara and to the FHIR store and
 * webhooks sent. A progress probe for long tests (test/support/wait-for.ts) that needs no database.
 */
export function standInActivity(sandbox: Sandbox, fhir: EmbeddedFhirServer): { avaraRequests: number; fhirRequests: number; webhooks: number } {
  return {
    avaraRequests: Object.values(sandbox.requestCounts()).reduce((sum, n) => sum + n, 0),
    fhirRequests: fhir.requests().length,
    webhooks: sandbox.webhookOutcomes().length,
  };
}

/** Starts the stand-ins on 127.0.0.1 port 0; `stop()` stops both and removes the temp dir. */
export async function startStandIns(options: { sandbox?: SandboxOptions; fhir?: StartFhirServerOptions; dirPrefix?: string } = {}): Promise<StandIns> {
  const dir = mkdtempSync(join(tmpdir(), options.dirPrefix ?? 'afs-test-'));
  const sqlitePath = join(dir, 'state.db');
  const fhir = await startFhirServer({ ...options.fhir, port: 0 });
  const sandbox = await startSandbox({ port: 0, ...options.sandbox });
  const connectionEnv = (): ConnectionEnv => ({
    AVARA_BASE_URL: sandbox.baseUrl,
    AVARA_API_KEY: sandbox.apiKey,
    AVARA_WEBHOOK_KEY: sandbox.webhookKey,
    FHIR_BASE_URL: fhir.baseUrl,
    SQLITE_PATH: sqlitePath,
  });
  return {
    sandbox, fhir, dir, sqlitePath, connectionEnv,
    serveEnv: (extra = {}) => ({ ...connectionEnv(), ...SERVE_TEST_SETTINGS, ...extra }),
    async stop() {
      await sandbox.stop();
      await fhir.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
