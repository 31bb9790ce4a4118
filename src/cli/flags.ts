// Small parsers for command-line values, with errors that name the flag.
export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!m)
    throw new Error(`--${flag}: invalid duration ${JSON.stringify(value)} (e.g. 500ms, 15s, 2m)`);
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(n * unit);
}

export function parseAddress(flag: string, value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const host = i <= 0 ? '0.0.0.0' : value.slice(0, i);
  const port = Number(value.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(
      `--${flag}: invalid address ${JSON.stringify(value)} (e.g. 127.0.0.1:8081, :8081, or :0 for any free port)`,
    );
  }
  return { host, port };
}

export function parseBool(
  flag: string,
  value: string | boolean | undefined,
  fallback: boolean,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Error(`--${flag}: expected true or false, got ${JSON.stringify(value)}`);
}

export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${flag}: expected a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** A rate in requests per second: a positive number, or -1 for no limit (kube-scheduler's). */
export function parseQps(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (n <= 0 && n !== -1))
    throw new Error(
      `--${flag}: expected a positive number, or -1 for no limit, got ${JSON.stringify(value)}`,
    );
  return n;
}
