import { existsSync, readFileSync } from 'node:fs';
// Each command loads what it runs when it runs (await import): `audit verify` or `status` need
// the store, not the HTTP app, the FHIR validator or the stand-ins (about 0.9 s of start-up).
import { Command, InvalidArgumentError } from 'commander';
import { createAvaraClient } from './avara/avara-client.ts';
import { checkBackfillRange, runBackfill } from './deliveries/backfill.ts';
import { createBackfillProgress } from './commands/render-backfill-progress.ts';
import { ConfigError } from './config/config-error.ts';
import { loadBackfillConfig, loadConfig, loadStoreConfig } from './config/load-config.ts';
import { createLogger } from './create-logger.ts';
import { EHR_MODES, type EhrMode } from './standins/fhir-store/documents-mode.ts';
import { MLLP_ACK_MODES, type MllpAckMode } from './standins/mllp-receiver/mllp-ack-modes.ts';
import { openStoreFromConfig, type StoreSettings } from './store/open-store-from-config.ts';
import { parseExpectedHead, type ChainVerdict, type ExpectedHead, type Store } from './store/store.ts';
import { verifyAuditFile } from './commands/verify-audit-file.ts';
import { formatChainVerdict } from './commands/format-chain-verdict.ts';
import { formatStatusReport, statusReport } from './commands/status-report.ts';
import { parseSinceDate, writeAuditExport, type ExportFormat } from './commands/audit-export.ts';
import { formatCheck } from './doctor/doctor-check.ts';
import { cliAction, parseReasonOption, REASON_OPTION_HELP } from './commands/cli-operator.ts';
import { registerOrdersCommands } from './orders/orders-commands.ts';
import { addEnvironmentHelp } from './commands/add-environment-help.ts';
import { openExistingStore as openExistingStoreAt } from './commands/open-existing-store.ts';

const program = new Command('avara-fhir-sync')
  .description('Deliver signed Avara radiology reports into an EHR (FHIR R4, HL7 v2)')
  .version(packageVersion());

// `audit export | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0 = any free port)');
  return n;
};
const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

program
  .command('serve')
  .description('HTTP server (webhooks, API, health) + delivery worker, configured from the environment')
  .option('--accept-identifier-change', 'start although identifier systems differ from those recorded in the database')
  .action(async (opts: { acceptIdentifierChange?: boolean }) => {
    const config = loadConfig(process.env);
    const log = createLogger(config.logLevel);
    const { startApp } = await import('./app.ts');
    const app = await startApp(config, log, { acceptIdentifierChange: opts.acceptIdentifierChange });
    stopOnSignals(log, () => app.stop());
  });

program
  .command('demo')
  .description('everything embedded: Avara sandbox, FHIR store, temporary SQLite; signs off N reports and delivers them')
  .option('--reports <n>', 'reports to sign off (with --orders: orders to place)', positive, 25)
  .option('--orders', 'the EHR -> Avara direction: FHIR orders become Avara studies, signed reports come back basedOn them')
  .option('--keep', 'keep everything running and print the URLs')
  .option('--targets <list>', 'delivery targets: fhir, fhir-documents, hl7v2 or a list (hl7v2 runs the embedded MLLP receiver; fhir-documents runs the store as a documents-only EHR with the patients pre-registered)', demoTargets, ['fhir'])
  .action(async (opts: { reports: number; orders?: boolean; keep?: boolean; targets: string[] }) => {
    const keep = opts.keep ?? false;
    const result = opts.orders
      ? await (await import('./commands/run-orders-demo.ts')).runOrdersDemo({ orders: opts.reports, keep, out: process.stdout })
      : await (await import('./commands/run-demo.ts')).runDemo({ reports: opts.reports, keep, out: process.stdout, targets: opts.targets });
    if (!opts.keep) process.exit(result.ok ? 0 : 1);
    stopOnSignals(createLogger('info'), result.stop);
  });

program
  .command('sandbox')
  .description('the simulated Avara alone (API + signed webhook sender)')
  .option('--port <port>', 'port (0 = any free port)', port, 0)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--api-key <key>', 'API key to accept (generated when absent)')
  .option('--webhook-key <whsec>', 'webhook signing secret (generated when absent)')
  .option('--webhook-url <url>', 'where signed webhooks are sent')
  .option('--studies <n>', 'completed studies to seed', (v) => Number(v), 0)
  .option('--seed <s>', 'seed for deterministic data', (v) => Number(v))
  .action(async (opts: { port: number; host: string; apiKey?: string; webhookKey?: string; webhookUrl?: string; studies: number; seed?: number }) => {
    const { startSandbox } = await import('./standins/avara-sandbox/start-sandbox.ts');
    const { sandboxStartupLine } = await import('./standins/avara-sandbox/sandbox-startup-line.ts');
    const sandbox = await startSandbox(opts);
    process.stdout.write(`${sandboxStartupLine(sandbox)}\n`);
    stopOnSignals(createLogger('info'), () => sandbox.stop());
  });

program
  .command('fhir-server')
  .description('the embedded FHIR R4 store alone (in memory)')
  .option('--port <port>', 'port (0 = any free port)', port, 8103)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--auth <mode>', 'none, or smart: SMART Backend Services tokens required (with --jwks and --client-id)', (v) => (v === 'none' || v === 'smart' ? v : invalid('must be none or smart')), 'none')
  .option('--jwks <file or URL>', "--auth smart: the client's public keys, a JWK Set file or its https URL")
  .option('--client-id <id>', '--auth smart: the client id assertions must carry as iss and sub')
  .option('--ehr <kind>', 'transactions, or documents: like Epic/Oracle Health (no transactions or conditional writes; Patient, Practitioner, ImagingStudy, DiagnosticReport read-only)', (v) => EHR_MODES.find((m) => m === v) ?? invalid('must be transactions or documents'), 'transactions')
  .action(async (opts: { port: number; host: string; auth: 'none' | 'smart'; jwks?: string; clientId?: string; ehr: EhrMode }) => {
    const { readJwksOption } = await import('./standins/fhir-store/smart/read-jwks-option.ts');
    const { startFhirServer } = await import('./standins/fhir-store/start-fhir-server.ts');
    const smart = opts.auth === 'smart' ? await readJwksOption(opts.jwks, opts.clientId) : undefined;
    const server = await startFhirServer({ port: opts.port, host: opts.host, auth: { smart }, ehr: opts.ehr });
    process.stdout.write(`${JSON.stringify({ baseUrl: server.baseUrl })}\n`);
    stopOnSignals(createLogger('info'), () => server.stop());
  });

program
  .command('hl7-receiver')
  .description('an embedded MLLP receiver (stand-in for a hospital interface engine): acknowledges and keeps what it receives')
  .option('--port <port>', 'port (0 = any free port; 2575 is the HL7 port)', port, 2575)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--ack <mode>', 'answer AA, AE, AR, or none (never answer)', (v) => MLLP_ACK_MODES.find((m) => m === v) ?? invalid('must be AA, AE, AR or none'), 'AA')
  .action(async (opts: { port: number; host: string; ack: MllpAckMode }) => {
    const log = createLogger('info');
    const { startMllpReceiver } = await import('./standins/mllp-receiver/start-mllp-receiver.ts');
    const receiver = await startMllpReceiver({
      ...opts,
      // Control id, type and answer only: the message itself carries a patient.
      onReceived: ({ controlId, messageType, ack }) => log.info({ controlId, messageType, ack }, 'HL7 message received'),
    });
    process.stdout.write(`${JSON.stringify(receiver.address)}\n`);
    stopOnSignals(log, () => receiver.stop());
  });

program
  .command('migrate')
  .description('apply database migrations (serve also does this at start)')
  .action(async () => {
    const store = await openStoreFromConfig(storeSettings());
    await store.close();
    process.stdout.write('migrations applied\n');
  });

program
  .command('status')
  .description('delivery counts by state, oldest waiting, last delivered, dead letters')
  .option('--json', 'machine-readable output')
  .action(async (opts: { json?: boolean }) => {
    const store = await openExistingStore();
    const report = await statusReport(store, Date.now()).finally(() => store.close());
    process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : formatStatusReport(report));
  });

const audit = program.command('audit').description('the hash-chained audit trail');
audit
  .command('verify')
  .description('check the audit hash chain and print its head (rows:hash of the last row); exit 1 naming the first broken row, or when --expect-head is no longer in the chain')
  .option('--expect-head <rows:hash>', 'a head recorded earlier (by this command, or the audit_chain metrics: hash prefix of 12+ hex digits); exit 1 unless the chain still holds it, so deleted newest rows show', (v) => parseExpectedHead(v) ?? invalid('must be <rows>:<hash>, the hash whole or its first 12 or more hex digits'))
  .option('--file <export.ndjson>', 'check an `audit export --format ndjson` file instead of the database (no database needed)')
  .action(async (opts: { expectHead?: ExpectedHead; file?: string }) => {
    let verdict: ChainVerdict;
    if (opts.file) verdict = await verifyAuditFile(opts.file, opts.expectHead);
    else {
      const store = await openExistingStore();
      try {
        verdict = await store.audit.verify(opts.expectHead);
      } finally {
        await store.close();
      }
    }
    process.stdout.write(formatChainVerdict(verdict, opts.file ? 'audit export' : 'audit chain', opts.expectHead));
    process.exitCode = verdict.ok ? 0 : 1;
  });
audit
  .command('export')
  .description('audit rows since a date as CSV or NDJSON on stdout: ids, events, codes, times (no patient data)')
  .requiredOption('--since <YYYY-MM-DD>', 'first day (UTC) to export', (v) => parseSinceDate(v) ?? invalid('must be a date YYYY-MM-DD'))
  .option('--format <format>', 'csv or ndjson', (v) => (v === 'csv' || v === 'ndjson' ? v : invalid('must be csv or ndjson')), 'csv')
  .action(async (opts: { since: number; format: ExportFormat }) => {
    const store = await openExistingStore();
    try {
      await writeAuditExport(store, opts.since, opts.format, (chunk) => process.stdout.write(chunk));
    } finally {
      await store.close();
    }
  });

program
  .command('doctor')
  .description('go-live check: configuration, Avara access, FHIR capabilities and auth, database; exit 1 on FAIL')
  .action(async () => {
    const { runDoctor } = await import('./doctor/run-doctor.ts');
    const passed = await runDoctor(process.env, (result) => process.stdout.write(`${formatCheck(result)}\n`));
    process.exitCode = passed ? 0 : 1;
  });

program
  .command('retry')
  .description('put a failed, dead or skipped delivery back in the queue (--dead: all dead letters)')
  .argument('[reportId]')
  .option('--dead', 'requeue every dead delivery')
  .option('--target <target>', 'only the delivery to this target (fhir, hl7v2); all of the report\'s failed, dead or skipped ones otherwise')
  .option('--reason <text>', REASON_OPTION_HELP, parseReasonOption)
  .action(async (reportId: string | undefined, opts: { dead?: boolean; target?: string; reason?: string }) => {
    if (!opts.dead && !reportId) throw new InvalidArgumentError('give a reportId or --dead');
    const store = await openExistingStore();
    try {
      if (opts.dead) process.stdout.write(`${await store.deliveries.requeueDead(Date.now(), cliAction(process.env, opts.reason))} dead deliveries requeued\n`);
      else {
        const result = await store.deliveries.requeue(reportId!, Date.now(), cliAction(process.env, opts.reason), opts.target);
        const said = { requeued: 'requeued', not_found: 'no delivery of this report here', not_retryable: 'not failed, dead or skipped; nothing to retry' }[result];
        process.stdout.write(`${reportId}: ${said}\n`);
        // A script must be able to tell that nothing was requeued.
        if (result !== 'requeued') process.exitCode = 1;
      }
    } finally {
      await store.close();
    }
  });

program
  .command('replay')
  .description('deliver a delivered report again: unchanged content writes no new EHR version, an HL7 message goes out again under the same control id, changed content is written once; audited as replayed')
  .argument('<reportId>')
  .option('--target <target>', 'only the delivery to this target (fhir, hl7v2); every delivered one otherwise')
  .option('--reason <text>', REASON_OPTION_HELP, parseReasonOption)
  .action(async (reportId: string, opts: { target?: string; reason?: string }) => {
    const store = await openExistingStore();
    try {
      const result = await store.deliveries.replay(reportId, Date.now(), cliAction(process.env, opts.reason), opts.target);
      process.stdout.write(`${reportId}: ${result === 'not_retryable' ? 'not delivered yet; nothing to replay' : result}\n`);
      if (result !== 'requeued') process.exitCode = 1;
    } finally {
      await store.close();
    }
  });

const isoDay = (value: string): string => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw new InvalidArgumentError('must be a date as YYYY-MM-DD');
  return value;
};

program
  .command('backfill')
  .description('find signed reports through the Avara API and enqueue the undelivered ones (serve delivers them)')
  .requiredOption('--since <YYYY-MM-DD>', 'first day (UTC) of signedAt to include', isoDay)
  .option('--until <YYYY-MM-DD>', 'last day (UTC) of signedAt to include', isoDay)
  .option('--dry-run', 'only count what would be enqueued')
  .option('--reason <text>', REASON_OPTION_HELP, parseReasonOption)
  .action(async (opts: { since: string; until?: string; dryRun?: boolean; reason?: string }) => {
    checkBackfillRange(opts.since, opts.until);
    const config = loadBackfillConfig(process.env);
    const store = await openStoreFromConfig(config.store);
    const avara = createAvaraClient(config.avara);
    const progress = createBackfillProgress(process.stdout, await store.polledStudies.count(), opts.dryRun ?? false);
    let stopRequested = false;
    // Ctrl-C: finish the study at hand and stop; a second one exits at once (each enqueue is
    // its own committed transaction, so either way the queue is consistent).
    process.on('SIGINT', () => {
      if (stopRequested) process.exit(130);
      stopRequested = true;
      process.stderr.write(`\nbackfill: stopping after the study at hand${opts.dryRun ? ' (dry run: nothing is enqueued)' : ''}; Ctrl-C again to exit at once\n`);
    });
    try {
      const result = await runBackfill(store, avara, {
        since: opts.since,
        until: opts.until,
        dryRun: opts.dryRun ?? false,
        maxRequestsPerSecond: config.poll.maxRequestsPerSecond,
        targets: config.poll.targets,
        action: cliAction(process.env, opts.reason),
        shouldStop: () => stopRequested,
        onProgress: progress.update,
        onLockTakenOver: ({ pid, host }) => process.stderr.write(
          `backfill: took over the lock of backfill process ${pid} on ${host}, which is no longer running (killed?); what it enqueued stays queued, this run enqueues the rest\n`,
        ),
      });
      progress.finish(result);
      if (result.interrupted) process.exitCode = 130;
    } finally {
      await store.close();
    }
  });

registerOrdersCommands(program, storeSettings);
addEnvironmentHelp(program);

function demoTargets(value: string): string[] {
  const targets = value.split(',').map((t) => t.trim()).filter(Boolean);
  if (targets.length === 0 || targets.some((t) => !['fhir', 'hl7v2', 'fhir-documents'].includes(t))) invalid('must be fhir, fhir-documents, hl7v2 or a list of them (fhir,hl7v2)');
  // One embedded store cannot be both a full FHIR server and a documents-only EHR.
  if (targets.includes('fhir') && targets.includes('fhir-documents')) invalid('cannot combine fhir and fhir-documents in one demo (the embedded store runs in one mode); run them one at a time');
  return targets;
}

function invalid(message: string): never {
  throw new InvalidArgumentError(message);
}

function openExistingStore(): Promise<Store> {
  return openExistingStoreAt(storeSettings());
}

/** From src/ (tsx) or dist/src/ (built): the first package.json above this file. */
function packageVersion(): string {
  const path = ['../package.json', '../../package.json'].map((relative) => new URL(relative, import.meta.url)).find((url) => existsSync(url));
  return path ? (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version : 'unknown';
}

function storeSettings(): StoreSettings {
  return loadStoreConfig(process.env);
}

function stopOnSignals(log: ReturnType<typeof createLogger>, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    // A second signal exits at once; everything acknowledged is already committed.
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

program.parseAsync(process.argv).catch((error: unknown) => {
  // One clear line naming what is wrong; no stack for configuration mistakes.
  if (error instanceof ConfigError || error instanceof InvalidArgumentError) process.stderr.write(`avara-fhir-sync: ${error.message}\n`);
  else process.stderr.write(`avara-fhir-sync: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
