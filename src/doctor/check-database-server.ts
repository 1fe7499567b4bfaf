import type { describeDatabaseServer } from '../store/open-store-from-config.ts';
import { fail, ok, warn, type CheckResult } from './doctor-check.ts';

type ServerFacts = NonNullable<Awaited<ReturnType<typeof describeDatabaseServer>>>;

/** Below this, clocks agree as well as NTP keeps them; a round trip blurs the reading by half its length. */
const CLOCK_OK_MS = 1_000;

/**
 * The PostgreSQL server's version, and whether this host's clock agrees with it. Replicas write
 * and judge leases by their own clocks: a clock ahead by a third of LEASE_SECONDS or more takes
 * other replicas' live work before its lease ends (an HL7 message may then be sent twice).
 */
export function judgeDatabaseServer(facts: ServerFacts, leaseMs: number): CheckResult[] {
  const version = facts.supported
    ? ok('PostgreSQL version', facts.version)
    : fail('PostgreSQL version', `${facts.version} is older than 11`, 'upgrade PostgreSQL to 11 or later (15 is what the tests run on)');
  const off = Math.max(0, Math.abs(facts.clockAheadMs) - facts.roundTripMs / 2);
  const said = `this host's clock is ${Math.abs(facts.clockAheadMs)} ms ${facts.clockAheadMs >= 0 ? 'ahead of' : 'behind'} the database's (round trip ${facts.roundTripMs} ms)`;
  const fix = 'run NTP (chrony, systemd-timesyncd) on every replica host and on the database host';
  const clock = off < CLOCK_OK_MS ? ok('clock', said)
    : off < leaseMs / 3 ? warn('clock', said, `${fix}; leases are judged by each replica's clock`)
      : fail('clock', `${said}: a third of LEASE_SECONDS or more, so replicas would take over each other's live deliveries`, fix);
  return [version, clock];
}
