// PostgreSQL advisory lock keys (two-int form: this product's class, then what is locked), so
// they cannot collide with another application's keys on a shared server.
const CLASS = 0x41_46_53; // "AFS"

/** Held while migrations run: a second replica starting at the same time waits, then finds them applied. */
export const MIGRATION_LOCK = [CLASS, 1] as const;

/** Held from a transaction's audit append to its commit: one appender at a time keeps the chain linear. */
export const AUDIT_CHAIN_LOCK = [CLASS, 2] as const;
