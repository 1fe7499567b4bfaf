import { round } from './figures.ts';
import { fmt, type Row } from './render-table.ts';
import type { PostgresFigures } from './stages/postgres-stage.ts';

const yes = (ok: boolean) => (ok ? 'yes' : 'NO');

/** The PostgreSQL stage's rows of the table. */
export function postgresRows(pg: PostgresFigures): Row[] {
  const rows: Row[] = [];
  for (const [connections, figures] of Object.entries(pg.intake)) {
    rows.push(
      [`postgres intake bare handler (verify + one INSERT, pool 10), ${connections} connections (webhooks/s)`, ...fmt(figures.bare, 0), '', ''],
      [`postgres intake product, ${connections} connections (webhooks/s)`, ...fmt(figures.product, 0), '', ''],
      [`postgres intake product / bare, ${connections} connections, per run`, ...fmt(figures.ratio, 2), '>= 0.8', yes(figures.ratio.median >= 0.8)],
    );
  }
  rows.push(
    [`postgres delivery, 1 replica, ${pg.deliveryReports} reports (reports/s)`, ...fmt(pg.delivery1), '', ''],
    [`postgres delivery, 2 replicas on one database, same reports (reports/s)`, ...fmt(pg.delivery2), '', ''],
    ['postgres delivery 2 replicas / 1 replica, per run', ...fmt(pg.deliveryRatio, 2), '>= 0.9', yes(pg.deliveryRatio.median >= 0.9)],
  );
  return rows;
}

/** `postgres` of bench/results/latest.json: the three figures first, then the detail. */
export function postgresResult(pg: PostgresFigures) {
  const at10 = pg.intake['10'] ?? Object.values(pg.intake)[0];
  return {
    intakeRatio: round(at10?.ratio.median ?? NaN),
    delivery1PerSec: round(pg.delivery1.median),
    delivery2PerSec: round(pg.delivery2.median),
    deliveryRatio: round(pg.deliveryRatio.median),
    intakeByConnections: Object.fromEntries(Object.entries(pg.intake).map(([connections, f]) => [connections, {
      barePerSec: round(f.bare.median), productPerSec: round(f.product.median), ratio: round(f.ratio.median), spreads: f,
    }])),
    deliveryReports: pg.deliveryReports,
    serveCpuMsPerReport: { replicas1: round(pg.serveCpuMsPerReport.replicas1.median), replicas2: round(pg.serveCpuMsPerReport.replicas2.median) },
    spreads: { delivery1: pg.delivery1, delivery2: pg.delivery2, deliveryRatio: pg.deliveryRatio, serveCpuMsPerReport: pg.serveCpuMsPerReport },
    server: pg.server,
    placement: pg.placement,
    minutes: round(pg.seconds / 60, 1),
  };
}
