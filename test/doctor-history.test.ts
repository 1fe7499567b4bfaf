import { afterEach, describe, expect, it } from 'vitest';
import { createAvaraClient } from '../src/avara/avara-client.ts';
import { runBackfill } from '../src/deliveries/backfill.ts';
import { HISTORY_MAX_STUDIES } from '../src/doctor/check-history.ts';
import { formatCheck, type CheckResult } from '../src/doctor/doctor-check.ts';
import { runDoctor } from '../src/doctor/run-doctor.ts';
import { enqueueDelivery } from '../src/store/deliveries.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { runCli } from './support/run-cli.ts';
import { startStandIns, type StandIns } from './support/start-stand-ins.ts';

const NAME = 'history before the first start';
const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function historyLine(env: Record<string, string>): Promise<CheckResult | undefined> {
  const results: CheckResult[] = [];
  await runDoctor(env, (result) => results.push(result));
  return results.find((r) => r.name === NAME);
}

describe('doctor on reports signed before the first start', () => {
  let standIns: StandIns | undefined;
  afterEach(async () => {
    await standIns?.stop();
    standIns = undefined;
  });

  it('warns with the count of undelivered ones and names the backfill that sends exactly them', async () => {
    standIns = await startStandIns({ sandbox: { seed: 5, studies: 40 } });
    const store = openSqliteStore({ sqlitePath: standIns.sqlitePath }); // the first start, as serve's open records it
    const [delivered] = standIns.sandbox.allReportStates();
    enqueueDelivery(store.connection.db, { reportId: delivered!.report.reportId, studyId: delivered!.report.studyId, source: 'webhook' }, Date.now());
    try {
      const line = await historyLine(standIns.serveEnv({ POLL_MAX_REQUESTS_PER_SECOND: '1000' }));
      expect(line?.level).toBe('WARN');
      expect(line?.detail).toMatch(/^39 signed reports from before the first start \(\d{4}-\d\d-\d\dT[\d:.]+Z\) are not delivered; the poller leaves them alone \(all 40 completed studies\)$/);
      const since = /backfill --since (\d{4}-\d\d-\d\d) --dry-run/.exec(line?.fix ?? '')?.[1];
      expect(since).toBeDefined();
      const avara = createAvaraClient({ baseUrl: standIns.sandbox.baseUrl, apiKey: standIns.sandbox.apiKey, pdfAllowedHosts: [] });
      const dry = await runBackfill(store, avara, { since: since!, dryRun: true, maxRequestsPerSecond: 1000, targets: ['fhir'] });
      expect(dry.found).toBe(39);
    } finally {
      store.close();
    }
  });

  it('counts only what POLL_SINCE leaves out, and says OK when it reaches back over all of it', async () => {
    standIns = await startStandIns({ sandbox: { seed: 6, studies: 50 } });
    openSqliteStore({ sqlitePath: standIns.sqlitePath }).close();
    const sinceMs = Date.parse(`${day(Date.now() - 10 * DAY_MS)}T00:00:00Z`);
    const older = standIns.sandbox.allReportStates().filter(({ report }) => Date.parse(report.signedAt!) < sinceMs).length;
    expect(older).toBeGreaterThan(5);
    const line = await historyLine(standIns.serveEnv({ POLL_MAX_REQUESTS_PER_SECOND: '1000', POLL_SINCE: day(sinceMs) }));
    expect(line?.detail).toMatch(new RegExp(`^${older} signed reports from before POLL_SINCE \\(${day(sinceMs)}\\)`));
    const all = await historyLine(standIns.serveEnv({ POLL_MAX_REQUESTS_PER_SECOND: '1000', POLL_SINCE: day(Date.now() - 40 * DAY_MS) }));
    expect(all && formatCheck(all)).toMatch(/^OK {3}history before the first start: no undelivered report signed before POLL_SINCE/);
  });

  it('counts everything as history before any serve has recorded a first start', async () => {
    standIns = await startStandIns({ sandbox: { seed: 8, studies: 12 } });
    const result = await runCli(['doctor'], standIns.serveEnv({ POLL_MAX_REQUESTS_PER_SECOND: '1000', SQLITE_PATH: `${standIns.dir}/never/state.db` }));
    expect(result.stdout).toMatch(/^WARN history before the first start: 12 signed reports from before now \(no first start recorded yet: the first serve records it\)/m);
    expect(result.stdout).toMatch(/-> if the EHR should have them, send them deliberately: avara-fhir-sync backfill --since \d{4}-\d\d-\d\d --dry-run/);
  });

  it('reads at most 100 report lists for old studies with new addenda, and says how many it left unexamined', async () => {
    standIns = await startStandIns({ sandbox: { seed: 10, studies: 110 } });
    openSqliteStore({ sqlitePath: standIns.sqlitePath }).close();
    await standIns.sandbox.signReports(105, { addendum: true, sendWebhooks: false });
    const line = await historyLine(standIns.serveEnv({ POLL_MAX_REQUESTS_PER_SECOND: '1000' }));
    // 100 listed originals + 5 studies untouched since before the first start; 5 changed studies left over.
    expect(line?.detail).toMatch(/^at least 105 signed reports from before the first start .* \(all 110 completed studies\); 5 older studies changed since were not examined \(reading their report lists for sign times; doctor reads at most 100\)$/);
  });

  it(`stops counting after ${HISTORY_MAX_STUDIES} studies and says so`, async () => {
    standIns = await startStandIns({ sandbox: { seed: 9, studies: HISTORY_MAX_STUDIES + 30 } });
    const line = await historyLine(standIns.serveEnv({ POLL_MAX_REQUESTS_PER_SECOND: '1000' }));
    expect(line?.detail).toMatch(new RegExp(`^at least ${HISTORY_MAX_STUDIES} signed reports .* \\(counted in the first ${HISTORY_MAX_STUDIES} studies; doctor stops at 3,000\\)$`));
  });
});
