// A webhook endpoint as configured: where it is, how to trust it, how to authenticate, and how
// patiently to call it. Credentials are read on every call so a rotated token or CA bundle is
// picked up without a restart.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { WEBHOOK_DEFAULTS } from '../config.js';
import type { FieldReader } from '../fields.js';
import type { SecretKeyRef, ServiceDeps } from '../types.js';
import { WebhookError, postJson } from './transport.js';
import { backoff, sleep } from '../../support/time.js';

export interface WebhookSettings {
  url: URL;
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  failureThreshold: number;
  cooldownMs: number;
  caFile?: string;
  caBundle?: string;
  tokenFile?: string;
  tokenSecretRef?: Omit<SecretKeyRef, 'namespace'> & { namespace?: string };
}

export const TRANSPORT_FIELDS = [
  'url',
  'caFile',
  'caBundle',
  'tokenFile',
  'tokenSecretRef',
  'timeoutSeconds',
  'retries',
  'retryBackoffMillis',
  'failureThreshold',
  'cooldownSeconds',
] as const;

/** Reads and checks the transport fields of a webhook entry; issues go to `f`. */
export function readWebhookSettings(f: FieldReader, deps: ServiceDeps): WebhookSettings {
  const rawUrl = f.string('url', true);
  let url = new URL('http://invalid.invalid/');
  if (rawUrl) {
    try {
      url = new URL(rawUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:')
        f.fail('url', 'must be http or https');
      if (url.username || url.password)
        f.fail('url', 'must not carry credentials; use tokenFile or tokenSecretRef');
    } catch {
      f.fail('url', `not a valid URL: "${rawUrl}"`);
    }
  }
  const caFile = f.string('caFile');
  const caBundle = f.string('caBundle');
  if (caBundle !== undefined && !caBundle.includes('-----BEGIN CERTIFICATE-----')) {
    f.fail('caBundle', 'must be PEM (-----BEGIN CERTIFICATE-----)');
  }
  if ((caFile || caBundle) && url.protocol === 'http:') {
    f.fail('url', 'caFile/caBundle given but the url is not https');
  }
  const tokenFile = f.string('tokenFile');
  const ref = f.record('tokenSecretRef');
  let tokenSecretRef: WebhookSettings['tokenSecretRef'];
  if (ref) {
    const { name, key, namespace } = ref;
    if (typeof name !== 'string' || !name)
      f.fail('tokenSecretRef.name', 'required, a non-empty string');
    if (typeof key !== 'string' || !key)
      f.fail('tokenSecretRef.key', 'required, a non-empty string');
    if (namespace !== undefined && (typeof namespace !== 'string' || !namespace)) {
      f.fail('tokenSecretRef.namespace', 'must be a non-empty string');
    }
    tokenSecretRef = {
      name: String(name),
      key: String(key),
      ...(typeof namespace === 'string' ? { namespace } : {}),
    };
  }
  if (tokenFile && tokenSecretRef)
    f.fail('tokenSecretRef', 'give tokenFile or tokenSecretRef, not both');
  const timeoutSeconds = f.number('timeoutSeconds', 0.001, 600) ?? WEBHOOK_DEFAULTS.timeoutSeconds;
  const retries = f.integer('retries', 0, 10) ?? WEBHOOK_DEFAULTS.retries;
  const backoffMs =
    f.integer('retryBackoffMillis', 0, 60_000) ?? WEBHOOK_DEFAULTS.retryBackoffMillis;
  const failureThreshold =
    f.integer('failureThreshold', 1, 1000) ?? WEBHOOK_DEFAULTS.failureThreshold;
  const cooldownSeconds =
    f.number('cooldownSeconds', 0, 86_400) ?? WEBHOOK_DEFAULTS.cooldownSeconds;
  const base = deps.baseDir ?? process.cwd();
  return {
    url,
    timeoutMs: Math.round(timeoutSeconds * 1000),
    retries,
    backoffMs,
    failureThreshold,
    cooldownMs: Math.round(cooldownSeconds * 1000),
    ...(caFile ? { caFile: path.resolve(base, caFile) } : {}),
    ...(caBundle ? { caBundle } : {}),
    ...(tokenFile ? { tokenFile: path.resolve(base, tokenFile) } : {}),
    ...(tokenSecretRef ? { tokenSecretRef } : {}),
  };
}

/** Backoff before attempt `n` (1-based retry number): base × 2^(n−1), capped at 30 s. */
export function backoffDelay(baseMs: number, retry: number): number {
  return backoff(baseMs, retry - 1, 30_000);
}

export class WebhookClient {
  constructor(
    readonly settings: WebhookSettings,
    private readonly deps: ServiceDeps,
  ) {}

  get url(): string {
    return `${this.settings.url.origin}${this.settings.url.pathname}`;
  }

  /**
   * POSTs `body`, retrying what may succeed on a second try. The error of the last attempt is
   * thrown; its `maybeDelivered` is true if any attempt may have reached the server.
   */
  async call(body: unknown, signal?: AbortSignal): Promise<unknown> {
    const { ca, token } = await this.credentials();
    const attempts = this.settings.retries + 1;
    let delivered = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await postJson(this.settings.url, body, {
          timeoutMs: this.settings.timeoutMs,
          ...(ca ? { ca } : {}),
          ...(token ? { token } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (err) {
        const e = err instanceof WebhookError ? err : new WebhookError(String(err), false, true);
        delivered ||= e.maybeDelivered;
        if (!e.retryable || attempt >= attempts || signal?.aborted) {
          const tries = attempt > 1 ? ` (after ${attempt} attempts)` : '';
          throw new WebhookError(`${e.message}${tries}`, false, delivered, e.status);
        }
        await sleep(backoffDelay(this.settings.backoffMs, attempt), signal);
      }
    }
  }

  private async credentials(): Promise<{ ca?: string; token?: string }> {
    const s = this.settings;
    const out: { ca?: string; token?: string } = {};
    const cas: string[] = [];
    if (s.caBundle) cas.push(s.caBundle);
    if (s.caFile) cas.push(await readConfigured(s.caFile, 'caFile'));
    if (cas.length) out.ca = cas.join('\n');
    if (s.tokenFile) {
      out.token = (await readConfigured(s.tokenFile, 'tokenFile')).trim();
      if (!out.token) throw new WebhookError(`tokenFile ${s.tokenFile} is empty`, false, false);
    } else if (s.tokenSecretRef) {
      out.token = await this.secretToken(s.tokenSecretRef);
    }
    return out;
  }

  private async secretToken(ref: NonNullable<WebhookSettings['tokenSecretRef']>): Promise<string> {
    const namespace = ref.namespace ?? this.deps.operatorNamespace;
    const where = `Secret ${namespace ?? '?'}/${ref.name} key ${ref.key}`;
    if (!this.deps.secretReader) {
      throw new WebhookError(
        `tokenSecretRef: no Secret reader available to read ${where}`,
        false,
        false,
      );
    }
    if (!namespace) {
      throw new WebhookError(
        'tokenSecretRef.namespace is not set and the operator namespace is unknown',
        false,
        false,
      );
    }
    let token: string;
    try {
      token = (await this.deps.secretReader({ namespace, name: ref.name, key: ref.key })).trim();
    } catch (err) {
      throw new WebhookError(`cannot read ${where}: ${(err as Error).message}`, false, false);
    }
    if (!token) throw new WebhookError(`${where} is empty`, false, false);
    return token;
  }
}

async function readConfigured(file: string, field: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new WebhookError(`cannot read ${field} ${file}: ${(err as Error).message}`, false, false);
  }
}
