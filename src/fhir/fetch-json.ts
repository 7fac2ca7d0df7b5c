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
 * accepted only uncompressed (no decompression bomb). Errors carry a short reason, never the upstream body;
 * the one thing read from an error answer is the reason a 4xx OperationOutcome gives (its first issue's
 * diagnostics or details.text), from a body of at most MAX_ERROR_BODY_BYTES, and not for 401, 403 and 407
 * (an authentication answer may speak of the token). The caller sanitises it before showing it
 * (src/fhir/gather.ts).
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

/** The most bytes of an error answer read for its OperationOutcome's reason. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Longest reason kept from an error answer (before the caller sanitises and shortens it). */
const MAX_SERVER_REASON_CHARS = 2000;
/** Error answers whose OperationOutcome is not read: authentication and authorization (they may echo the token). */
const UNREAD_ERROR_STATUSES: ReadonlySet<number> = new Set([401, 403, 407]);

/** Why a request failed, short and safe to show (never the upstream body). */
export class FetchError extends Error {
  constructor(
    readonly reason: string,
    /** 'too-large' when a byte limit was hit; 'aborted' when the signal fired. */
    readonly kind: 'too-large' | 'aborted' | 'http' | 'malformed' | 'network' = 'network',
    /** For 'http': the status, and the reason a 4xx OperationOutcome gave (raw: the caller sanitises it). */
    readonly http?: { status: number; serverReason?: string },
  ) {
    super(reason);
    this.name = 'FetchError';
  }
}

/** The reason an OperationOutcome gives: its first issue's diagnostics, else its details.text (raw, capped). */
function outcomeReason(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const outcome = body as { resourceType?: unknown; issue?: unknown };
  if (outcome.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue)) return undefined;
  const issue: unknown = outcome.issue[0];
  if (typeof issue !== 'object' || issue === null) return undefined;
  const { diagnostics, details } = issue as { diagnostics?: unknown; details?: { text?: unknown } };
  const text =
    typeof diagnostics === 'string' && diagnostics.trim() !== ''
      ? diagnostics
      : typeof details === 'object' && details !== null && typeof details.text === 'string'
        ? details.text
        : undefined;
  return text === undefined || text.trim() === '' ? undefined : text.slice(0, MAX_SERVER_REASON_CHARS);
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
      const encoding = (response.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      const uncompressed = encoding === 'identity' || encoding === '';
      if (statusCode < 200 || statusCode >= 300) {
        const httpError = (serverReason?: string) =>
          new FetchError(`HTTP ${statusCode}`, 'http', {
            status: statusCode,
            ...(serverReason !== undefined ? { serverReason } : {}),
          });
        if (statusCode < 400 || statusCode >= 500 || UNREAD_ERROR_STATUSES.has(statusCode) || !uncompressed) {
          fail(httpError());
          return;
        }
        // A 4xx: the server's reason is read from a small body (within the call's budget), then the socket closed.
        readErrorReason(
          response,
          budget,
          () => settled,
          (reason) => fail(httpError(reason)),
        );
        return;
      }
      if (!uncompressed) {
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

/**
 * Reads an error answer's body (at most MAX_ERROR_BODY_BYTES, counted in the call's budget) and hands over
 * the reason of the OperationOutcome it holds, or nothing (too large, not JSON, no reason, a broken stream).
 */
function readErrorReason(
  response: http.IncomingMessage,
  budget: CallBudget,
  settled: () => boolean,
  done: (reason: string | undefined) => void,
): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (reason: string | undefined) => {
    if (finished) return;
    finished = true;
    chunks.length = 0;
    done(reason);
  };
  response.on('data', (chunk: Buffer) => {
    if (finished || settled()) return;
    received += chunk.length;
    if (received > MAX_ERROR_BODY_BYTES || !budget.take(chunk.length)) {
      finish(undefined);
      return;
    }
    chunks.push(chunk);
  });
  response.on('end', () => {
    if (finished) return;
    let reason: string | undefined;
    try {
      reason = outcomeReason(
        JSON.parse(
          Buffer.concat(chunks)
            .toString('utf8')
            .replace(/^\uFEFF/, ''),
        ),
      );
    } catch {
      reason = undefined;
    }
    finish(reason);
  });
  response.on('error', () => finish(undefined));
  response.on('aborted', () => finish(undefined));
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
