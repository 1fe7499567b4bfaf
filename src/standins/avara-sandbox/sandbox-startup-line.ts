import type { Sandbox } from './start-sandbox.ts';

/** The one JSON line `avara-fhir-sync sandbox` prints on start (design.md, "The sandbox"). */
export function sandboxStartupLine(sandbox: Sandbox): string {
  const { baseUrl, apiKey, webhookKey, controlUrl } = sandbox;
  return JSON.stringify({ baseUrl, apiKey, webhookKey, controlUrl });
}
