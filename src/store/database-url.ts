/** A database URL for messages and logs: the password never leaves the process. */
export function withoutPassword(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'postgres://(unparseable DATABASE_URL)';
  }
}
