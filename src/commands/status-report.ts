import { POLL_LAST_SUCCESS_KEY, type DeliveryCounts, type Store } from '../store/store.ts';

const DEAD_LETTERS_SHOWN = 50;

export interface StatusReport {
  counts: DeliveryCounts;
  /** The same counts per delivery target. */
  byTarget: Record<string, DeliveryCounts>;
  oldestWaiting: { createdAt: string; ageSeconds: number } | null;
  lastDeliveredAt: string | null;
  deadLetters: { reportId: string; target: string; studyId: string; code: string | null; message: string | null; updatedAt: string }[];
  /** Studies cancelled in Avara after delivery: never retracted by us, a person must decide. */
  cancelledAfterDelivery: number;
  lastPollCompletedAt: string | null;
}

/** `status`: what an operator asks first: how much is waiting, since when, what is dead and why. */
export async function statusReport(store: Store, now: number): Promise<StatusReport> {
  const oldest = await store.deliveries.oldestWaitingCreatedAt();
  const last = await store.deliveries.lastDeliveredAt();
  const dead = (await store.deliveries.list({ states: ['dead'], limit: DEAD_LETTERS_SHOWN })).items;
  return {
    counts: await store.deliveries.countByState(),
    byTarget: await store.deliveries.countByTarget(),
    oldestWaiting: oldest === null ? null : { createdAt: new Date(oldest).toISOString(), ageSeconds: Math.round((now - oldest) / 1000) },
    lastDeliveredAt: last === null ? null : new Date(last).toISOString(),
    deadLetters: dead.map((d) => ({ reportId: d.reportId, target: d.target, studyId: d.studyId, code: d.lastErrorCode, message: d.lastErrorMessage, updatedAt: new Date(d.updatedAt).toISOString() })),
    cancelledAfterDelivery: await store.polledStudies.countCancelledAfterDelivery(),
    lastPollCompletedAt: isoOrNull(await store.settings.read(POLL_LAST_SUCCESS_KEY)),
  };
}

export function formatStatusReport(report: StatusReport): string {
  const targets = Object.keys(report.byTarget);
  const lines = [`${''.padEnd(14)} ${['all', ...(targets.length > 1 ? targets : [])].map((t) => t.padStart(8)).join(' ')}`];
  for (const [state, n] of Object.entries(report.counts)) {
    const perTarget = targets.length > 1 ? targets.map((t) => String(report.byTarget[t]![state as keyof typeof report.counts]).padStart(8)) : [];
    lines.push(`${state.padEnd(14)} ${[String(n).padStart(8), ...perTarget].join(' ')}`);
  }
  lines.push('');
  lines.push(`oldest waiting ${report.oldestWaiting ? `${report.oldestWaiting.createdAt} (${formatAge(report.oldestWaiting.ageSeconds)} ago)` : 'none'}`);
  lines.push(`last delivered ${report.lastDeliveredAt ?? 'never'}`);
  lines.push(`last poll sweep ${report.lastPollCompletedAt ?? 'never completed'}`);
  if (report.cancelledAfterDelivery > 0) {
    lines.push(`FLAG: ${report.cancelledAfterDelivery} studies were cancelled in Avara after their report reached the EHR (see the audit: study_cancelled_after_delivery)`);
  }
  if (report.deadLetters.length > 0) {
    const more = report.counts.dead > report.deadLetters.length ? ` (newest ${report.deadLetters.length} shown)` : '';
    lines.push('', `dead letters: ${report.counts.dead}${more}`);
    for (const d of report.deadLetters) lines.push(`  ${d.reportId}  ${d.target}  ${d.studyId}  ${d.code ?? '-'}  ${d.updatedAt}`);
    lines.push('', 'after fixing the cause: avara-fhir-sync retry <reportId> [--target T]  or  retry --dead');
  }
  return `${lines.join('\n')}\n`;
}

function isoOrNull(ms: string | undefined): string | null {
  return ms === undefined ? null : new Date(Number(ms)).toISOString();
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}
