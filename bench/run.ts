import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FULL, QUICK } from './bench-sizes.ts';
import { progress, round } from './figures.ts';
import { cpuMsByStage } from './cpu-profile-stages.ts';
import { describeMachine } from './machine.ts';
import { pinBenchToCores } from './pin-cores.ts';
import { postgresResult, postgresRows } from './postgres-report.ts';
import { fmt, renderTable, type Row } from './render-table.ts';
import { measureDelivery } from './stages/delivery-stage.ts';
import { measureHl7 } from './stages/hl7-stage.ts';
import { measureIntake } from './stages/intake-stage.ts';
import { measureMemory } from './stages/memory-stage.ts';
import { measurePoller } from './stages/poller-stage.ts';
import { measurePostgres, POSTGRES_FULL, POSTGRES_QUICK } from './stages/postgres-stage.ts';

// npm run bench [-- --quick] [-- --only=delivery,intake,memory,poller,hl7,postgres] [-- --times=3] [-- --delivery-reports=500] [-- --pg-delivery-reports=400]
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const wanted = (stage: string) => !only || only.includes(stage);
// --times=N repeats each figure N times; --delivery-reports=N sets the delivery stage's N (the
// issue's 2,000 when full): for a median of three when a full run does not fit the time at hand.
const numberArg = (name: string) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? NaN);
const base = quick ? QUICK : FULL;
const sizes = {
  ...base,
  times: Number.isInteger(numberArg('times')) ? numberArg('times') : base.times,
  delivery: { ...base.delivery, ...(Number.isInteger(numberArg('delivery-reports')) ? { reports: numberArg('delivery-reports') } : {}) },
  postgres: { ...(quick ? POSTGRES_QUICK : POSTGRES_FULL), ...(Number.isInteger(numberArg('pg-delivery-reports')) ? { deliveryReports: numberArg('pg-delivery-reports') } : {}) },
};
const machine = { ...describeMachine(), pinning: pinBenchToCores() };
const started = Date.now();
progress(`${quick ? 'quick' : 'full'} run on ${machine.cores} x ${machine.cpu}, load ${machine.loadAvgStart.join(' ')}`);
progress(`cores: ${machine.pinning.note}`);

const delivery = wanted('delivery') ? await measureDelivery(sizes.delivery, sizes.times) : undefined;
const intake = wanted('intake') ? await measureIntake(sizes.intake, sizes.times) : undefined;
const memory = wanted('memory') ? await measureMemory(sizes.memory, sizes.times) : undefined;
const poller = wanted('poller') ? await measurePoller(sizes.pollerStudies, sizes.times) : undefined;
const hl7 = wanted('hl7') ? await measureHl7(sizes.hl7, sizes.times) : undefined;
const postgres = wanted('postgres') ? await measurePostgres(sizes.postgres, sizes.times) : undefined;
machine.loadAvgEnd = loadavg().map((n) => round(n));

const yes = (ok: boolean) => (ok ? 'yes' : 'NO');
const rows: Row[] = [];
if (delivery) {
  const ratio = delivery.ratio.median;
  rows.push(
    [`delivery replay ceiling: FHIR store alone answering serve's recorded requests, ${delivery.reports} reports, ${delivery.replayConcurrency} in flight (reports/s)`, ...fmt(delivery.replayCeiling), '', ''],
    [`delivery bare-bundle ceiling: FHIR store alone, transactions only, ${delivery.ceilingConcurrency} in flight (reports/s)`, ...fmt(delivery.ceiling), '', ''],
    [`delivery product, default WORKER_CONCURRENCY=4 (reports/s)`, ...fmt(delivery.productDefault), '', ''],
    [`delivery product, best WORKER_CONCURRENCY=${delivery.bestWorkerConcurrency} (reports/s)`, ...fmt(delivery.productBest), '', ''],
    ['delivery product (best) / replay ceiling, per run', ...fmt(delivery.ratio, 2), '>= 0.9', yes(ratio >= 0.9)],
    ['delivery product (best) / bare-bundle ceiling, per run', ...fmt(delivery.bareRatio, 2), '', ''],
    ['serve CPU per delivered report (ms)', ...fmt(delivery.serveCpuMsPerReport), '', ''],
    ['FHIR store CPU per delivered report, same runs (ms)', ...fmt(delivery.storeCpuMsPerReport), '', ''],
    ['serve / FHIR store CPU per report, per run', ...fmt(delivery.cpuRatio, 2), '<= 0.5', yes(delivery.cpuRatio.median <= 0.5)],
  );
}
if (intake) {
  for (const [connections, figures] of Object.entries(intake.byConnections)) {
    rows.push(
      [`intake bare handler, ${connections} connections (webhooks/s)`, ...fmt(figures.bare, 0), '', ''],
      [`intake product, ${connections} connections (webhooks/s)`, ...fmt(figures.product, 0), '', ''],
      [`intake product / bare, ${connections} connections, per run`, ...fmt(figures.ratio, 2), '>= 0.8', yes(figures.ratio.median >= 0.8)],
    );
  }
  const p99Ratio = intake.p99Ratio.median;
  rows.push(
    [`intake p99 idle, ${sizes.intake.p99RatePerSec}/s (ms)`, ...fmt(intake.p99Idle), '', ''],
    [`intake p99 during ${sizes.intake.loadedDeliveries} deliveries (ms)`, ...fmt(intake.p99Loaded), '', ''],
    ['intake p99 loaded / idle, per run', ...fmt(intake.p99Ratio, 2), '<= 1.5', yes(p99Ratio <= 1.5)],
  );
}
if (memory) {
  rows.push(
    [`serve RSS, ${sizes.memory.smallQueue} queued (MiB)`, ...fmt(memory.queued.small, 0), '', ''],
    [`serve RSS, ${sizes.memory.largeQueue} queued (MiB)`, ...fmt(memory.queued.large, 0), '', ''],
    ['serve RSS large / small queue', memory.queued.ratio.toFixed(2), '', '< 1.2', yes(memory.queued.ratio < 1.2)],
    [`serve RSS after ${sizes.memory.fewDeliveries} deliveries (MiB)`, ...fmt(memory.delivered.few, 0), '', ''],
    [`serve RSS after ${sizes.memory.manyDeliveries} deliveries, same serve (MiB)`, ...fmt(memory.delivered.many, 0), '', ''],
    [`serve RSS after ${sizes.memory.manyDeliveries} / ${sizes.memory.fewDeliveries} deliveries, per run`, ...fmt(memory.delivered.ratio, 2), 'flat (< 1.2)', yes(memory.delivered.ratio.median < 1.2)],
  );
}
if (poller) {
  rows.push([`poller requests, ${poller.studies} unchanged studies (per sweep)`, String(poller.requestsForUnchangedStudies), `${poller.perStudyRequests} per-study`, `${Math.ceil(poller.studies / 100)} list pages, 0 per-study`, yes(poller.perStudyRequests === 0)]);
}
if (hl7) {
  rows.push(
    [`hl7 bare MLLP sender: one connection, send then await AA, ${hl7.reports} messages (messages/s)`, ...fmt(hl7.bare), '', ''],
    [`hl7 product, DELIVERY_TARGETS=hl7v2, default WORKER_CONCURRENCY=4 (reports/s)`, ...fmt(hl7.productDefault), '', ''],
    ...(hl7.bestWorkerConcurrency === 4 ? [] : [[`hl7 product, best WORKER_CONCURRENCY=${hl7.bestWorkerConcurrency} (reports/s)`, ...fmt(hl7.productBest), '', ''] as Row]),
    ['hl7 product (best) / bare sender, per run', ...fmt(hl7.ratio, 2), '>= 0.8', yes(hl7.ratio.median >= 0.8)],
  );
}
if (postgres) rows.push(...postgresRows(postgres));

const table = renderTable(rows);
process.stdout.write(`\n${table}\n`);
if (delivery) {
  const pure = delivery.pureSteps;
  process.stdout.write(`\nCores: ${machine.pinning.note}\n`);
  process.stdout.write(`\nWhere a delivery's time goes (WORKER_CONCURRENCY=${delivery.bestWorkerConcurrency}, mean ms per delivered report, wall time incl. waiting):\n`);
  for (const [step, ms] of Object.entries(delivery.breakdownMs)) process.stdout.write(`  ${step.padEnd(40)} ${ms.toFixed(1)}\n`);
  process.stdout.write(`CPU ms per report (median of the best-concurrency runs): serve ${delivery.serveCpuMsPerReport.median.toFixed(1)}, FHIR store ${delivery.storeCpuMsPerReport.median.toFixed(1)} (replay alone: ${delivery.replayStoreCpuMsPerReport.median.toFixed(1)}, bare bundles alone: ${delivery.bareStoreCpuMsPerReport.median.toFixed(1)}), sandbox ${delivery.sandboxCpuMsPerReport.median.toFixed(1)}\n`);
  const stages = cpuMsByStage(delivery.serveProfileMsByStage, delivery.serveCpuMsPerReport.median);
  process.stdout.write(`\nserve's CPU per report by stage (shares of a --cpu-prof run of ${Math.min(sizes.delivery.searchReports, delivery.reports)} reports, scaled to the ${delivery.serveCpuMsPerReport.median.toFixed(1)} ms measured):\n`);
  for (const { stage, ms, share } of stages) process.stdout.write(`  ${stage.padEnd(64)} ${ms.toFixed(2).padStart(6)} ms  ${(share * 100).toFixed(1).padStart(5)}%\n`);
  if (stages[0]) process.stdout.write(`Bound by: ${stages[0].stage} (${(stages[0].share * 100).toFixed(0)}% of serve's CPU)\n`);
  process.stdout.write(`Pure steps, CPU ms per delivery (${pure.reports} reports, warm): mapping ${pure.mappingMs.toFixed(2)}, validation ${pure.validationMs.toFixed(2)}, JSON body ${pure.serializeMs.toFixed(2)}, content hash ${pure.hashingMs.toFixed(2)}; PDF ${(pure.meanPdfBytes / 1024).toFixed(0)} KiB, text ${(pure.meanTextBytes / 1024).toFixed(1)} KiB, bundle ${(pure.meanBodyBytes / 1024).toFixed(0)} KiB\n`);
}
if (hl7) {
  process.stdout.write(`\nWhere an HL7 delivery's time goes (WORKER_CONCURRENCY=${hl7.bestWorkerConcurrency}, mean ms per delivered report, wall time incl. waiting):\n`);
  for (const [step, ms] of Object.entries(hl7.breakdownMs)) process.stdout.write(`  ${step.padEnd(40)} ${ms.toFixed(1)}\n`);
  process.stdout.write(`CPU ms per report: serve ${hl7.cpuMsPerReport.serve.toFixed(1)}, receiver ${hl7.cpuMsPerReport.receiver.toFixed(1)}, sandbox ${hl7.cpuMsPerReport.sandbox.toFixed(1)}; bare: sender ${hl7.bareCpuMsPerMessage.sender.toFixed(1)}, receiver ${hl7.bareCpuMsPerMessage.receiver.toFixed(1)}\n`);
  process.stdout.write(`Messages ${(hl7.meanMessageBytes.product / 1024).toFixed(0)} KiB from serve, ${(hl7.meanMessageBytes.bare / 1024).toFixed(0)} KiB from the bare sender (PDF ${(hl7.meanPdfBytes / 1024).toFixed(0)} KiB embedded); receiver idle between an ACK and the next message: ${hl7.receiverGapMs.product.toFixed(1)} ms (serve), ${hl7.receiverGapMs.bare.toFixed(1)} ms (bare)\n`);
}
if (postgres) process.stdout.write(`\nPostgreSQL ${postgres.server.version} at ${postgres.server.host} (synchronous_commit=${postgres.server.synchronousCommit}): ${postgres.placement}. The PostgreSQL stage took ${(postgres.seconds / 60).toFixed(1)} min.\n`);
process.stdout.write(`\n${quick ? 'quick' : 'full'} run took ${((Date.now() - started) / 60_000).toFixed(1)} min; load average ${machine.loadAvgStart.join(' ')} -> ${machine.loadAvgEnd.join(' ')}\n`);

const result = {
  machine: { ...machine, mode: quick ? 'quick' : 'full', times: sizes.times, deliveryReports: sizes.delivery.reports, date: new Date().toISOString(), minutes: round((Date.now() - started) / 60_000, 1) },
  ...(delivery ? {
    delivery: {
      replayCeilingPerSec: round(delivery.replayCeiling.median), ceilingPerSec: round(delivery.ceiling.median), productPerSec: round(delivery.productBest.median),
      ratio: round(delivery.ratio.median), bareRatio: round(delivery.bareRatio.median),
      serveCpuMsPerReport: round(delivery.serveCpuMsPerReport.median), storeCpuMsPerReport: round(delivery.storeCpuMsPerReport.median), cpuRatio: round(delivery.cpuRatio.median),
      productDefaultPerSec: round(delivery.productDefault.median), bestWorkerConcurrency: delivery.bestWorkerConcurrency,
      replayConcurrency: delivery.replayConcurrency, ceilingConcurrency: delivery.ceilingConcurrency, replayRequestsPerReport: round(delivery.replayRequestsPerReport),
      spreads: {
        replayCeiling: delivery.replayCeiling, ceiling: delivery.ceiling, productDefault: delivery.productDefault, productBest: delivery.productBest,
        ratio: delivery.ratio, bareRatio: delivery.bareRatio, serveCpuMsPerReport: delivery.serveCpuMsPerReport, storeCpuMsPerReport: delivery.storeCpuMsPerReport, cpuRatio: delivery.cpuRatio,
      },
      replaySearch: delivery.replaySearch, ceilingSearch: delivery.ceilingSearch, workerSearch: delivery.workerSearch, breakdownMs: delivery.breakdownMs,
      cpuMsPerReport: { serve: delivery.serveCpuMsPerReport.median, fhirStore: delivery.storeCpuMsPerReport.median, sandbox: delivery.sandboxCpuMsPerReport.median },
      replayStoreCpuMsPerReport: round(delivery.replayStoreCpuMsPerReport.median), ceilingFhirCpuMsPerReport: round(delivery.bareStoreCpuMsPerReport.median),
      serveCpuMsByStage: Object.fromEntries(cpuMsByStage(delivery.serveProfileMsByStage, delivery.serveCpuMsPerReport.median).map(({ stage, ms }) => [stage, round(ms)])),
      inputs: delivery.pureSteps,
    },
  } : {}),
  ...(intake ? {
    intake: {
      barePerSec: round(intake.byConnections['10']?.bare.median ?? NaN), productPerSec: round(intake.byConnections['10']?.product.median ?? NaN),
      ratio: round(intake.byConnections['10']?.ratio.median ?? NaN),
      p99IdleMs: round(intake.p99Idle.median), p99LoadedMs: round(intake.p99Loaded.median), p99Ratio: round(intake.p99Ratio.median),
      byConnections: intake.byConnections, spreads: { p99Idle: intake.p99Idle, p99Loaded: intake.p99Loaded, p99Ratio: intake.p99Ratio },
      loadedDeliveriesStillRunning: intake.loadedDeliveriesStillRunning,
    },
  } : {}),
  ...(memory ? {
    memory: {
      rss1kMiB: round(memory.queued.small.median, 1), rss100kMiB: round(memory.queued.large.median, 1), ratio: round(memory.queued.ratio),
      queuedSizes: [sizes.memory.smallQueue, sizes.memory.largeQueue], spreads: memory.queued,
      afterDeliveries: { counts: [sizes.memory.fewDeliveries, sizes.memory.manyDeliveries], ...memory.delivered },
    },
  } : {}),
  ...(poller ? { poller } : {}),
  ...(hl7 ? {
    hl7: {
      barePerSec: round(hl7.bare.median), productPerSec: round(hl7.productBest.median), ratio: round(hl7.ratio.median),
      productDefaultPerSec: round(hl7.productDefault.median), bestWorkerConcurrency: hl7.bestWorkerConcurrency, reports: hl7.reports,
      spreads: { bare: hl7.bare, productDefault: hl7.productDefault, productBest: hl7.productBest, ratio: hl7.ratio },
      workerSearch: hl7.workerSearch, breakdownMs: hl7.breakdownMs, cpuMsPerReport: hl7.cpuMsPerReport, bareCpuMsPerMessage: hl7.bareCpuMsPerMessage,
      meanMessageBytes: hl7.meanMessageBytes, meanPdfBytes: hl7.meanPdfBytes, receiverGapMs: hl7.receiverGapMs,
    },
  } : {}),
  ...(postgres ? { postgres: postgresResult(postgres) } : {}),
  table,
};
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}latest.json`, `${JSON.stringify(result, null, 2)}\n`);
progress(`wrote bench/results/latest.json`);
