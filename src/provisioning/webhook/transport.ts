// One HTTP(S) POST of a JSON document, with a hard deadline over the whole exchange (connect,
// headers and body), a size cap on the answer, and errors that say whether a retry may help and
// whether the server may have acted on the request (which decides if a compensating release is due).
import type { ClientRequest, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { http } from '../../support/node-http.js';

export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export class WebhookError extends Error {
  constructor(
    message: string,
    /** A new attempt could succeed (network trouble, timeout, 5xx, 408, 429). */
    readonly retryable: boolean,
    /** The server may have received and acted on the request. */
    readonly maybeDelivered: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'WebhookError';
  }
}

export interface PostOptions {
  ca?: string;
  token?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

// Errors raised before a byte of the request can have reached the server.
const UNDELIVERED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|HOSTNAME|ALTNAME/;

export function postJson(url: URL, body: unknown, opts: PostOptions): Promise<unknown> {
  const payload = JSON.stringify(body);
  const where = `POST ${url.origin}${url.pathname}`;
  return new Promise((resolve, reject) => {
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (err: WebhookError | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) {
        req?.destroy();
        reject(err);
      } else {
        resolve(value);
      }
    };
    const onAbort = () => finish(new WebhookError(`${where}: aborted`, false, req !== undefined));
    const timer = setTimeout(
      () => finish(new WebhookError(`${where}: no answer within ${opts.timeoutMs} ms`, true, true)),
      opts.timeoutMs,
    );
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const headers: OutgoingHttpHeaders = {
      'content-type': 'application/json',
      accept: 'application/json',
      'content-length': Buffer.byteLength(payload),
      'user-agent': 'berth',
    };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const requestOptions: https.RequestOptions = {
      method: 'POST',
      headers,
      // No pooled sockets: each attempt stands alone, and nothing keeps a process or server alive.
      agent: false,
      ...(opts.ca ? { ca: opts.ca } : {}),
    };
    const transport = url.protocol === 'https:' ? https : http;
    try {
      req = transport.request(url, requestOptions, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            finish(
              new WebhookError(
                `${where}: answer larger than ${MAX_RESPONSE_BYTES} bytes`,
                false,
                true,
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) => finish(new WebhookError(`${where}: ${err.message}`, true, true)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) {
            finish(httpError(where, status, text));
            return;
          }
          try {
            finish(undefined, JSON.parse(text) as unknown);
          } catch {
            finish(
              new WebhookError(
                `${where}: malformed JSON in answer: ${snippet(text)}`,
                false,
                true,
                status,
              ),
            );
          }
        });
      });
    } catch (err) {
      finish(new WebhookError(`${where}: ${(err as Error).message}`, false, false));
      return;
    }
    req.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? '';
      if (TLS_CODE.test(code)) {
        // A certificate problem is configuration: retrying cannot fix it.
        finish(new WebhookError(`${where}: TLS: ${err.message}`, false, false));
      } else {
        finish(new WebhookError(`${where}: ${err.message}`, true, !UNDELIVERED_CODES.has(code)));
      }
    });
    req.end(payload);
  });
}

function httpError(where: string, status: number, text: string): WebhookError {
  let detail = snippet(text);
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') detail = snippet(parsed.message);
  } catch {
    // Not JSON: the raw text is the best detail there is.
  }
  const retryable = status >= 500 || status === 408 || status === 429;
  // The contract says a 4xx answer means the request was not acted on.
  const maybeDelivered = status >= 500 || status === 408;
  return new WebhookError(
    `${where}: HTTP ${status}${detail ? `: ${detail}` : ''}`,
    retryable,
    maybeDelivered,
    status,
  );
}

function snippet(text: string): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 200 ? `${one.slice(0, 200)}…` : one;
}
