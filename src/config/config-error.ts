/** A configuration that cannot run; `variables` are the names at fault, never their values. */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(message: string, readonly variables: readonly string[] = []) {
    super(message);
  }
}
