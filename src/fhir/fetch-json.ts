/**
 * The FHIR fallback's HTTP client: one GET that streams its body under a byte budget and can always be
 * stopped. A response is refused (socket destroyed, nothing more read, what was read dropped) when
 *  - its Content-Length or the bytes received pass the per-response limit,
 *  - the bytes received by the whole call pass the call's limit (shared by every request of one call),
 *  - the signal aborts (the key's timeout or the caller's deadline).
 * So nothing fetched for a call outlives the call, however large, slow or endless the body is.
 *
 * Connections are kept alive in one agent per scheme (idle sockets are unref'd and do not keep the process
 * up), at most MAX_SOCKETS_PER_ORIGIN at a time per origin; `limitConcurrency` bounds one call's requests.
 * Redirects are never followed (the token must not leave the allowed server); the body is asked for and
 * accepted only uncompressed (no decompression bomb). Errors carry a short reason, never the upstream body.
 */
import http from 'node:http';
import https from 'node:https';

/** Open connections per FHIR origin across all calls (more requests wait for a free one). */
const MAX_SOCKETS_PER_ORIGIN = 32;
/** Idle keep-alive connections kept per origin. */
const MAX_FREE_SOCKETS = 8;
/** Idle keep-alive connections are closed after this long (below typical server keep-alive timeouts). */
const FREE_SOCKET_TIMEOUT_MS = 4_000;

const agents = {
  'http:': new http.Agent({
    keepAlive: true,
    maxSockets: MAX_SOCKETS_PER_ORIGIN,
    maxFreeSockets: MAX_FREE_SOCKETS,
    timeout: FREE_SOCKET_TIMEOUT_MS,
  }),
  'https:': new https.Agent({
    keepAlive: true,
    maxSockets: MAX_SOCKETS_PER_ORIGIN,
    maxFreeSockets: MAX_FREE_SOCKETS,
    timeout: FREE_SOCKET_TIMEOUT_MS,
  }),
};

/** Closes the idle pooled FHIR connections (shutdown, tests); requests in flight are left alone. */
export function closeFhirConnections(): void {
  for (const agent of Object.values(agents))
    for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}

/** Why a request failed, short and safe to show (never the upstream body). */
export class FetchError extends Error {
  constructor(
    readonly reason: string,
    /** 'too-large' when a byte limit was hit; 'aborted' when the signal fired. */
    readonly kind: 'too-large' | 'aborted' | 'http' | 'malformed' | 'network' = 'network',
  ) {
    super(reason);
    this.name = 'FetchError';
  }
}

/** The byte limits of one call: per response, and for all responses of the call together. */
export interface ByteLimits {
  maxResponseBytes: number;
  maxCallBytes: number;
}

/** One call's byte account: every response of the call draws from it. Create one per call, never share. */
export class CallBudget {
  private used = 0;
  constructor(readonly limits: ByteLimits) {}
  /** Counts `bytes` received; false when the call's total would pass its limit. */
  take(bytes: number): boolean {
    this.used += bytes;
    return this.used <= this.limits.maxCallBytes;
  }
  get bytesReceived(): number {
    return this.used;
  }
}

export interface GetJsonOptions {
  /** Bearer access token, if any. */
  token?: string;
  signal: AbortSignal;
  budget: CallBudget;
}

/** GET `url` as FHIR JSON under the call's byte budget; rejects with a FetchError. */
export function getJson(url: string, options: GetJsonOptions): Promise<unknown> {
  const { signal, budget } = options;
  const { maxResponseBytes } = budget.limits;
  return new Promise<unknown>((resolve, reject) => {
    if (signal.aborted) {
      reject(new FetchError('timeout', 'aborted'));
      return;
    }
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new FetchError('malformed URL', 'malformed'));
      return;
    }
    const agent =
      target.protocol === 'https:' ? agents['https:'] : target.protocol === 'http:' ? agents['http:'] : null;
    if (agent === null) {
      reject(new FetchError('unsupported URL scheme', 'malformed'));
      return;
    }
    const headers: Record<string, string> = {
      accept: 'application/fhir+json, application/json;q=0.9',
      'accept-encoding': 'identity',
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;

    let settled = false;
    const request = (target.protocol === 'https:' ? https : http).request(target, { method: 'GET', headers, agent });
    const fail = (error: FetchError) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      request.destroy(); // closes the socket: nothing more is read, nothing is pooled
      reject(error);
    };
    const onAbort = () => fail(new FetchError('timeout', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });

    request.on('error', () =>
      fail(signal.aborted ? new FetchError('timeout', 'aborted') : new FetchError('network error')),
    );
    request.on('response', (response) => {
      const { statusCode = 0 } = response;
      if (statusCode < 200 || statusCode >= 300) {
        fail(new FetchError(`HTTP ${statusCode}`, 'http'));
        return;
      }
      const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity' && encoding !== '') {
        fail(new FetchError('compressed response refused', 'malformed'));
        return;
      }
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxResponseBytes) {
        fail(new FetchError(`response larger than ${maxResponseBytes} bytes`, 'too-large'));
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        if (settled) return;
        received += chunk.length;
        if (received > maxResponseBytes) {
          chunks.length = 0;
          fail(new FetchError(`response larger than ${maxResponseBytes} bytes`, 'too-large'));
          return;
        }
        if (!budget.take(chunk.length)) {
          chunks.length = 0;
          fail(new FetchError(`the call's FHIR responses passed ${budget.limits.maxCallBytes} bytes`, 'too-large'));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', () =>
        fail(signal.aborted ? new FetchError('timeout', 'aborted') : new FetchError('network error')),
      );
      response.on('aborted', () => fail(new FetchError('network error')));
      response.on('end', () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        let text = Buffer.concat(chunks).toString('utf8');
        chunks.length = 0;
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new FetchError('malformed response', 'malformed'));
        }
      });
    });
    request.end();
  });
}

/** Runs at most `limit` of the tasks given to it at a time (one call's requests). */
export function limitConcurrency(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiting one, so `running` never passes `limit`.
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}
