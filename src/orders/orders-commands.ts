import type { Command } from 'commander';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from '../create-logger.ts';
import { openExistingStore } from '../commands/open-existing-store.ts';
import { openStoreFromConfig, type StoreSettings } from '../store/open-store-from-config.ts';
import { cliAction, parseReasonOption, REASON_OPTION_HELP } from '../commands/cli-operator.ts';
import type { OperatorAction } from '../store/store.ts';

/** `orders status | sync <ImagingStudy id> | retry [id]`: the EHR -> Avara direction. */
export function registerOrdersCommands(program: Command, storeSettings: () => StoreSettings): void {
  const orders = program.command('orders').description('the EHR -> Avara direction: FHIR orders become Avara studies');
  orders.command('status').description('orders by state and the most recent errors').option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const store = await openExistingStore(storeSettings());
      const report = await Promise.all([store.orders.countByState(), store.orders.recentErrors()])
        .then(([counts, recentErrors]) => ({ counts, recentErrors }))
        .finally(() => store.close());
      if (opts.json) return void process.stdout.write(`${JSON.stringify(report)}\n`);
      const lines = [Object.entries(report.counts).map(([s, n]) => `${s}: ${n}`).join('  ')];
      for (const e of report.recentErrors) lines.push(`  ${e.state.padEnd(6)} ImagingStudy/${e.imagingStudyId}  attempts ${e.attempts}  ${e.code}: ${e.message}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  orders.command('retry').description('put failed and dead orders (or one) back in the queue').argument('[imagingStudyId]')
    .option('--reason <text>', REASON_OPTION_HELP, parseReasonOption)
    .action(async (id: string | undefined, opts: { reason?: string }) => {
      const store = await openExistingStore(storeSettings());
      try {
        process.stdout.write(`${await store.orders.requeue(Date.now(), cliAction(process.env, opts.reason), id)} orders requeued\n`);
      } finally {
        await store.close();
      }
    });
  orders.command('sync').description('sync one order now, whatever its state (needs the serve environment)').argument('<imagingStudyId>')
    .option('--reason <text>', REASON_OPTION_HELP, parseReasonOption)
    .action(async (id: string, opts: { reason?: string }) => {
      process.exitCode = await syncOne(id, cliAction(process.env, opts.reason));
    });
}

async function syncOne(imagingStudyId: string, action: OperatorAction): Promise<number> {
  const config = loadConfig(process.env);
  // Loaded by the one command that syncs: `orders status` and `retry` need only the store.
  const [{ createAvaraClient }, { createFhirClient }, { runOrderAttempt }] = await Promise.all([
    import('../avara/avara-client.ts'), import('../fhir/fhir-client.ts'), import('./run-order-attempt.ts'),
  ]);
  const store = await openStoreFromConfig(config.store);
  try {
    const now = Date.now;
    await store.orders.noteChange({ imagingStudyId, resource: 'cli', version: String(now()), source: 'cli', action }, now());
    const lease = await store.orderQueue().claim(now(), config.orders.leaseMs, imagingStudyId);
    if (!lease) {
      process.stdout.write(`ImagingStudy/${imagingStudyId}: being synced by a running serve; try again shortly\n`);
      return 1;
    }
    const avara = createAvaraClient({ baseUrl: config.avara.baseUrl, apiKey: config.avara.apiKey, pdfAllowedHosts: config.avara.pdfAllowedHosts });
    const fhir = createFhirClient({ baseUrl: config.fhir.baseUrl, auth: config.fhir.auth });
    const outcome = await runOrderAttempt({
      store, avara, fhir, log: createLogger(config.logLevel), now,
      settings: { ...config.orders, concurrency: 1 },
    }, lease);
    const row = await store.orders.get(imagingStudyId);
    const detail = row?.lastErrorCode ? `${row.lastErrorCode}: ${row.lastErrorMessage}` : `Avara study ${row?.avaraStudyId ?? 'none (order not active)'}`;
    process.stdout.write(`ImagingStudy/${imagingStudyId}: ${outcome} (${detail})\n`);
    return outcome === 'synced' ? 0 : 1;
  } finally {
    await store.close();
  }
}
