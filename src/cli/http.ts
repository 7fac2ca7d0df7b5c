/**
 * HTTP for the CLI (global fetch), turning network failures and error statuses into clear messages.
 */

/** An error whose message is meant for the person at the terminal; `exitCode` is the process exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface HttpResult {
  status: number;
  ok: boolean;
  text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  json: unknown;
}

export type FetchLike = typeof fetch;

const DEFAULT_TIMEOUT_MS = 15_000;

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: is it running?',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

function networkReason(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'no answer in time';
  const code = e?.cause?.code ?? e?.code;
  if (code && NETWORK_REASONS[code]) return NETWORK_REASONS[code];
  return e?.cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/** Fetch `url`; a network failure becomes "Cannot reach <what> at <url>: <reason>". */
export async function httpRequest(
  what: string,
  url: string,
  init: RequestInit = {},
  options: { fetch?: FetchLike; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, { ...init, signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS) });
  } catch (err) {
    throw new CliError(`Cannot reach ${what} at ${url}: ${networkReason(err)}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, ok: response.ok, text, json };
}

/** The diagnostics of an OperationOutcome body, joined; '' when the body is not one. */
export function outcomeText(body: unknown): string {
  const outcome = body as {
    resourceType?: string;
    issue?: Array<{ diagnostics?: string; details?: { text?: string } }>;
  };
  if (outcome?.resourceType !== 'OperationOutcome' || !Array.isArray(outcome.issue)) return '';
  return outcome.issue
    .map((i) => i.diagnostics ?? i.details?.text ?? '')
    .filter(Boolean)
    .join('; ');
}

/** Join a base URL and a relative path without doubling or dropping the slash. */
export function joinUrl(base: string, relative: string): string {
  return `${base.replace(/\/+$/, '')}/${relative.replace(/^\/+/, '')}`;
}
