/**
 * Which FHIR servers the service may call (CH-J7): a request must not be able to point the service at
 * internal hosts. A `fhirServer` is allowed when its normalized origin equals an allowlist entry's
 * origin and its path is that entry's path or below it (segment-wise: `/fhir` allows `/fhir/R4`, never
 * `/fhirx`). With an empty allowlist only loopback hosts are allowed (127.0.0.0/8, localhost, [::1]).
 */

export interface NormalizedBase {
  /** Lower-cased scheme + host + non-default port, as WHATWG URL serializes it. */
  origin: string;
  hostname: string;
  /** Path without trailing slash ('' for the root). Dot segments are already resolved by URL. */
  path: string;
}

/**
 * Parses a FHIR base URL; null when it is not an absolute http(s) URL without credentials, query or fragment.
 */
export function normalizeBaseUrl(raw: string): NormalizedBase | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '') return null;
  if (url.search !== '' || url.hash !== '' || raw.includes('?') || raw.includes('#')) return null;
  return { origin: url.origin, hostname: url.hostname, path: url.pathname.replace(/\/+$/, '') };
}

/** True when `path` equals `prefix` or lies below it on a segment boundary. */
function isPathWithin(path: string, prefix: string): boolean {
  if (prefix === '') return true;
  return path === prefix || path.startsWith(`${prefix}/`);
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  // URL has already normalized IPv4 spellings (127.1, 0x7f.0.0.1…) to dotted decimal.
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** CH-J7: may the service send requests (and the access token) to this FHIR base URL? */
export function isAllowedFhirServer(fhirServer: string, allowlist: readonly string[]): boolean {
  const target = normalizeBaseUrl(fhirServer);
  if (!target) return false;
  if (allowlist.length === 0) return isLoopbackHost(target.hostname);
  return allowlist.some((entry) => {
    const allowed = normalizeBaseUrl(entry);
    return allowed !== null && allowed.origin === target.origin && isPathWithin(target.path, allowed.path);
  });
}

/**
 * True when `url` (absolute) is on the FHIR server `base`: same origin, path at or below the base path,
 * and no credentials. Used for paging links and for every rendered query.
 */
export function isUnderBase(url: string, base: string): boolean {
  const baseNorm = normalizeBaseUrl(base);
  if (!baseNorm) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== '' || parsed.password !== '') return false;
  return parsed.origin === baseNorm.origin && isPathWithin(parsed.pathname.replace(/\/+$/, ''), baseNorm.path);
}
