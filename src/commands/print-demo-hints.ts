import type { DemoStack } from './run-demo.ts';

/**
 * What `demo --keep` leaves running and what to try with it. Each command is one that works
 * against this stack as printed: a documents-only EHR knows only the demo's patients, so signing
 * new studies there would only produce patient_not_found; addenda on the demo's studies arrive.
 */
export function printKeepUrls(out: NodeJS.WritableStream, stack: DemoStack, signedReports: number): void {
  const { app, adminToken, sandbox, fhir, receiver, sqlitePath } = stack;
  const documentsOnly = stack.targets.includes('fhir-documents');
  const count = Math.max(1, Math.min(3, signedReports));
  const signBody = documentsOnly ? `{"count": ${count}, "addendum": true}` : '{"count": 3}';
  out.write(
    `\nStill running (Ctrl-C to stop; the temporary database goes with it):\n  service      ${app.url}  (audit page ${app.url}/, webhooks at ${app.url}/webhooks/avara, API at ${app.url}/api/deliveries)\n` +
      `  admin token  ${adminToken}  (audit page sign-in: ${app.url}/?token=${adminToken}; API: -H 'authorization: Bearer ${adminToken}')\n` +
      `  Avara        ${sandbox.baseUrl}  (control: ${sandbox.controlUrl}, API key ${sandbox.apiKey})\n  FHIR store   ${fhir.baseUrl}\n` +
      (receiver ? `  HL7 receiver ${receiver.address.host}:${receiver.address.port} (MLLP, answers AA)\n` : '') +
      `  database     ${sqlitePath}\n` +
      `\nTry next:\n` +
      `  sign more    curl -X POST ${sandbox.controlUrl}/sign -H 'content-type: application/json' -d '${signBody}'\n` +
      `               (${documentsOnly ? 'addenda on the demo\'s studies: the documents-only EHR knows only their patients' : 'new signed reports; their webhooks reach the service'}; then reload the audit page)\n` +
      `  CLI env      export SQLITE_PATH=${sqlitePath} AVARA_BASE_URL=${sandbox.baseUrl} AVARA_API_KEY=${sandbox.apiKey}\n` +
      `  then         npx avara-fhir-sync status; npx avara-fhir-sync audit verify; npx avara-fhir-sync backfill --since ${new Date().toISOString().slice(0, 10)} --dry-run\n`,
  );
}
