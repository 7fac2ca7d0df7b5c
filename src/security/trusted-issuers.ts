/**
 * The EHRs this service trusts (CH-J4), read from the CDS_TRUSTED_ISSUERS environment variable:
 *
 *   [{ "iss": "https://sandbox.cds-hooks.org",
 *      "jwks_uri": "https://sandbox.cds-hooks.org/.well-known/jwks.json",
 *      "jku": ["https://sandbox.cds-hooks.org/.well-known/jwks.json"] }]
 *
 * `jwks_uri` is where the issuer's keys are fetched from; `jku` lists the only other URLs a token's
 * `jku` header may name. Key URLs must be https (plain http only for loopback, for tests and demos).
 */

export interface TrustedIssuer {
  /** Exact `iss` claim value. */
  iss: string;
  /** The issuer's JWK Set URL. */
  jwks_uri: string;
  /** Allowed `jku` header values besides `jwks_uri`. */
  jku?: string[];
}

export class TrustedIssuersError extends Error {
  constructor(problems: string[]) {
    super(`CDS_TRUSTED_ISSUERS is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'TrustedIssuersError';
  }
}

const ALLOWED_KEYS = new Set(['iss', 'jwks_uri', 'jku']);
const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);

/** True for 127.0.0.0/8, ::1 and localhost: the only hosts a key URL may reach over plain http. */
function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** Why `value` is not an acceptable key URL, or null when it is. */
export function keyUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a non-empty URL string';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL: ${JSON.stringify(value)}`;
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.hash) return 'must not have a #fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return null;
  return `must be an https URL (http only for loopback hosts): ${JSON.stringify(value)}`;
}

/** Canonical form of a URL for allowlist comparison (lower-case scheme/host, default port dropped). */
export function canonicalUrl(value: string): string | null {
  try {
    return new URL(value).href;
  } catch {
    return null;
  }
}

/** Parse and check CDS_TRUSTED_ISSUERS; every problem is listed with its position. */
export function parseTrustedIssuers(json: string): TrustedIssuer[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (err) {
    throw new TrustedIssuersError([`not valid JSON (${(err as Error).message})`]);
  }
  if (!Array.isArray(data)) throw new TrustedIssuersError(['must be a JSON array of { iss, jwks_uri, jku? } objects']);
  if (data.length === 0) throw new TrustedIssuersError(['must list at least one trusted issuer']);

  const problems: string[] = [];
  const issuers: TrustedIssuer[] = [];
  const seen = new Set<string>();
  data.forEach((entry: unknown, i) => {
    const at = `[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be an object { iss, jwks_uri, jku? }`);
      return;
    }
    const record = entry as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!ALLOWED_KEYS.has(key)) problems.push(`${at}.${key} is not a known field (expected iss, jwks_uri, jku)`);
    }
    const { iss, jwks_uri: jwksUri, jku } = record;
    if (typeof iss !== 'string' || iss.trim().length === 0) problems.push(`${at}.iss must be a non-empty string`);
    else if (seen.has(iss)) problems.push(`${at}.iss ${JSON.stringify(iss)} is listed twice`);
    else seen.add(iss);
    const uriProblem = keyUrlProblem(jwksUri);
    if (uriProblem) problems.push(`${at}.jwks_uri ${uriProblem}`);
    let jkuList: string[] | undefined;
    if (jku !== undefined) {
      if (!Array.isArray(jku)) problems.push(`${at}.jku must be an array of URLs`);
      else {
        jku.forEach((url: unknown, j) => {
          const problem = keyUrlProblem(url);
          if (problem) problems.push(`${at}.jku[${j}] ${problem}`);
        });
        jkuList = jku.filter((url): url is string => typeof url === 'string');
      }
    }
    if (typeof iss === 'string' && typeof jwksUri === 'string') {
      issuers.push({ iss, jwks_uri: jwksUri, ...(jkuList ? { jku: jkuList } : {}) });
    }
  });
  if (problems.length > 0) throw new TrustedIssuersError(problems);
  return issuers;
}
