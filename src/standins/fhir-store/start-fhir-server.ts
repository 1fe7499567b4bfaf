import type { WithId } from '@medplum/core';
import { FhirRouter } from '@medplum/fhir-router';
import type { Resource } from '@medplum/fhirtypes';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFhirHttpApp } from './create-fhir-http-app.ts';
import type { FaultSwitches } from './fault-switches.ts';
import { createFaultSwitches } from './fault-switches.ts';
import { IndexedMemoryRepository } from './indexed-memory-repository.ts';
import type { RecordedRequest } from './request-log.ts';
import { createRequestLog } from './request-log.ts';
import type { EhrMode } from './documents-mode.ts';
import { smartAuthRouter, type SmartAuthControl, type SmartAuthOptions } from './smart/smart-auth-router.ts';

export type StartFhirServerOptions = {
  /** 0 or absent: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default /fhir/R4. */
  basePath?: string;
  /** Behave like an EHR that authenticates backend services with SMART (private_key_jwt). */
  auth?: { smart?: SmartAuthOptions };
  /** Default transactions. documents: behave like Epic / Oracle Health (see documents-mode.ts). */
  ehr?: EhrMode;
};

export type EmbeddedFhirServerFaults = FaultSwitches & {
  /** Stops listening (open connections are cut): clients get "connection refused". */
  down(): Promise<void>;
  /** Listens again on the same host and port, with the same data. */
  up(): Promise<void>;
};

export type EmbeddedFhirServer = {
  /** e.g. http://127.0.0.1:8103/fhir/R4 (no trailing slash) */
  baseUrl: string;
  port: number;
  /** The store itself, for tests to seed, count and search without HTTP. */
  repository: IndexedMemoryRepository;
  /**
   * Stores a resource as the EHR's own data would be there (keeping its id if it has one), past
   * documents mode's refusals: how tests register the patients and practitioners it never takes.
   */
  seed<T extends Resource>(resource: T): Promise<WithId<T>>;
  faults: EmbeddedFhirServerFaults;
  /** The last 1,000 requests received, oldest first, with when and how each ended. */
  requests(): readonly RecordedRequest[];
  /** With `auth.smart`: the token endpoint (`<baseUrl>/auth/token`) and its switches. */
  smart: (SmartAuthControl & { tokenUrl: string }) | undefined;
  stop(): Promise<void>;
};

/** Starts the in-memory FHIR R4 store over HTTP, for the demo, the CLI and the tests. */
export async function startFhirServer(options: StartFhirServerOptions = {}): Promise<EmbeddedFhirServer> {
  const host = options.host ?? '127.0.0.1';
  const basePath = normalizeBasePath(options.basePath ?? '/fhir/R4');
  const repository = new IndexedMemoryRepository();
  const switches = createFaultSwitches();
  const requestLog = createRequestLog();
  const smart = options.auth?.smart ? smartAuthRouter(options.auth.smart) : undefined;
  const app = createFhirHttpApp({ repository, router: new FhirRouter(), faults: switches, requestLog, basePath, auth: smart?.router, ehr: options.ehr });
  const server = createServer(app);
  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;

  const faults: EmbeddedFhirServerFaults = {
    failNext: switches.failNext,
    commitThenDrop: switches.commitThenDrop,
    hangNext: switches.hangNext,
    failEntryNext: switches.failEntryNext,
    racyConditionalCreates: switches.racyConditionalCreates,
    delayMs: switches.delayMs,
    reset: switches.reset,
    down: () => close(server),
    up: async () => {
      if (!server.listening) await listen(server, port, host);
    },
  };
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}${basePath}`;
  return {
    baseUrl,
    port,
    repository,
    seed: (resource) => repository.createResource(resource),
    faults,
    requests: () => requestLog.entries(),
    smart: smart && { ...smart.control, tokenUrl: `${baseUrl}/auth/token` },
    stop: () => close(server),
  };
}

function normalizeBasePath(basePath: string): string {
  const trimmed = basePath.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive sockets would otherwise keep answering a server that is supposed to be down.
    server.closeAllConnections();
  });
}
