/**
 * Trusting the CDS client (CDS Hooks 2.0 §Trusting CDS Clients, CH-J1…CH-J6): every call carries
 * `Authorization: Bearer <JWT>` signed by the EHR. The token is checked in an order that never lets
 * an untrusted value reach the network:
 *   1 header: Bearer scheme, alg ∈ {ES384, RS384}, kid present, typ JWT        (nothing fetched yet)
 *   2 unverified iss must be a trusted issuer; a jku header must be on its allowlist
 *   3 signature against that issuer's JWK Set (fetched once, cached, refetched on an unknown kid)
 *   4 claims: iss, aud = the exact URL called, exp, iat not in the future, nbf, a short lifetime
 *     (exp − iat ≤ maxLifetimeSeconds + clock skew: CDS clients mint a token per call), jti not replayed
 * Every failure is the same 401 with no detail; the log gets the reason class and a trusted iss only.
 */
import type { FetchImplementation, JWTPayload, RemoteJWKSet } from 'jose' with { 'resolution-mode': 'import' };
import { unauthorized } from '../errors';
import { createLogger, type Logger } from '../log';
import { canonicalUrl, keyUrlProblem, type TrustedIssuer } from './trusted-issuers';
import { createMemoryReplayCache, type ReplayCache } from './replay-cache';

export { parseTrustedIssuers, TrustedIssuersError } from './trusted-issuers';
export { createMemoryReplayCache } from './replay-cache';

/** The only signing algorithms CDS Hooks 2.0 clients use; `none` and every HMAC alg are refused. */
const ACCEPTED_ALGORITHMS = ['ES384', 'RS384'] as const;
/** Tolerated clock difference between the EHR and this service (not a clinical number). */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
/** After a JWKS fetch, an unknown kid triggers a refetch only after this long (key rotation vs kid spraying). */
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;
/** Longest accepted token lifetime exp − iat (the clock skew is added): CDS clients mint short-lived tokens. */
const DEFAULT_MAX_LIFETIME_SECONDS = 300;
/** A JWKS fetch that takes longer fails (the EHR drops late cards anyway). */
const DEFAULT_JWKS_TIMEOUT_MS = 2_000;
/** Cached keys are refetched after this long even without an unknown kid. */
const DEFAULT_JWKS_MAX_AGE_MS = 600_000;

const MS_PER_SECOND = 1000;
const BEARER = /^Bearer[ ]+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)[ ]*$/i;
const REQUIRED_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'jti'];

export interface AuthenticatorConfig {
  trustedIssuers: TrustedIssuer[];
  clockSkewSeconds?: number;
  /** Longest accepted exp − iat in seconds, before the clock skew is added (default 300). */
  maxLifetimeSeconds?: number;
  jtiCache?: ReplayCache;
  /** fetch used for JWK Sets (tests inject one); defaults to the global fetch. */
  fetchJwks?: FetchImplementation;
  logger?: Logger;
  /** Clock in epoch ms (tests pin it). */
  now?: () => number;
  jwksCooldownMs?: number;
  jwksTimeoutMs?: number;
  jwksMaxAgeMs?: number;
}

interface AuthenticationRequest {
  /** The raw Authorization header, if any. */
  authorization: string | undefined;
  /** The exact URL that was called, built from the configured public base URL (never from Host). */
  audience: string;
  /** The request id (X-Request-Id) of the call, put on the lines logged about it. */
  requestId?: string;
}

interface AuthenticatedClient {
  iss: string;
  sub?: string;
  tenant?: string;
  jti: string;
}

export type Authenticate = (req: AuthenticationRequest) => Promise<AuthenticatedClient>;

/** Why a token was refused: logged, never sent to the client. */
type RejectReason =
  | 'missing-header'
  | 'not-bearer'
  | 'malformed'
  | 'alg-not-allowed'
  | 'missing-kid'
  | 'bad-typ'
  | 'missing-iss'
  | 'untrusted-iss'
  | 'jku-not-allowed'
  | 'unknown-kid'
  | 'ambiguous-kid'
  | 'bad-signature'
  | 'jwks-unavailable'
  | 'audience'
  | 'issuer'
  | 'expired'
  | 'not-yet-valid'
  | 'iat-in-future'
  | 'lifetime-too-long'
  | 'missing-claim'
  | 'invalid-claim'
  | 'replayed'
  | 'replay-cache-full'
  | 'verification-error';

class Rejected extends Error {
  constructor(
    readonly reason: RejectReason,
    readonly iss?: string,
  ) {
    super(reason);
  }
}

const loadJose = () => import('jose');
type Jose = Awaited<ReturnType<typeof loadJose>>;

export function createAuthenticator(config: AuthenticatorConfig): Authenticate {
  const skew = config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  if (!Number.isFinite(skew) || skew < 0) throw new Error('clockSkewSeconds must be a non-negative number');
  const maxLifetime = config.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_SECONDS;
  if (!Number.isFinite(maxLifetime) || maxLifetime <= 0)
    throw new Error('maxLifetimeSeconds must be a positive number');
  const now = config.now ?? Date.now;
  const replay = config.jtiCache ?? createMemoryReplayCache({ now });
  const logger = config.logger ?? createLogger();
  const issuers = indexIssuers(config.trustedIssuers);
  const keySets = new Map<string, RemoteJWKSet>();
  let jose: Promise<Jose> | undefined;

  const keySetFor = (lib: Jose, issuer: TrustedIssuer, url: string): RemoteJWKSet => {
    const cacheKey = `${issuer.iss}\u0000${url}`;
    let keySet = keySets.get(cacheKey);
    if (!keySet) {
      keySet = lib.createRemoteJWKSet(new URL(url), {
        cooldownDuration: config.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
        timeoutDuration: config.jwksTimeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS,
        cacheMaxAge: config.jwksMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS,
        ...(config.fetchJwks ? { [lib.customFetch]: config.fetchJwks } : {}),
      });
      keySets.set(cacheKey, keySet);
    }
    return keySet;
  };

  const verify = async (req: AuthenticationRequest): Promise<AuthenticatedClient> => {
    const token = bearerToken(req.authorization);
    const lib = await (jose ??= loadJose());

    // 1 header, before anything else
    let header: ReturnType<Jose['decodeProtectedHeader']>;
    let unverified: JWTPayload;
    try {
      header = lib.decodeProtectedHeader(token);
      unverified = lib.decodeJwt(token);
    } catch {
      throw new Rejected('malformed');
    }
    if (typeof header.alg !== 'string' || !(ACCEPTED_ALGORITHMS as readonly string[]).includes(header.alg)) {
      throw new Rejected('alg-not-allowed');
    }
    if (typeof header.kid !== 'string' || header.kid.length === 0) throw new Rejected('missing-kid');
    if (typeof header.typ !== 'string' || !isJwtTyp(header.typ)) throw new Rejected('bad-typ');

    // 2 issuer and key location, from the allowlist only
    if (typeof unverified.iss !== 'string' || unverified.iss.length === 0) throw new Rejected('missing-iss');
    const issuer = issuers.get(unverified.iss);
    if (!issuer) throw new Rejected('untrusted-iss');
    const iss = issuer.iss;
    let jwksUrl = issuer.jwks_uri;
    if (header.jku !== undefined) {
      const jku = typeof header.jku === 'string' ? jkuAllowed(issuer, header.jku) : null;
      if (!jku) throw new Rejected('jku-not-allowed', iss);
      jwksUrl = jku;
    }

    // 3 + 4 signature and registered claims
    let payload: JWTPayload;
    try {
      ({ payload } = await lib.jwtVerify(token, keySetFor(lib, issuer, jwksUrl), {
        algorithms: [...ACCEPTED_ALGORITHMS],
        issuer: iss,
        audience: req.audience,
        typ: 'JWT',
        clockTolerance: skew,
        currentDate: new Date(now()),
        requiredClaims: REQUIRED_CLAIMS,
      }));
    } catch (err) {
      throw new Rejected(classifyJoseError(err), iss);
    }
    const nowSeconds = now() / MS_PER_SECOND;
    if (typeof payload.iat !== 'number' || typeof payload.exp !== 'number') throw new Rejected('invalid-claim', iss);
    if (payload.iat > nowSeconds + skew) throw new Rejected('iat-in-future', iss);
    // A long-lived token is a stolen token's best friend: it would be replayable (with a new jti) for years.
    if (payload.exp - payload.iat > maxLifetime + skew) throw new Rejected('lifetime-too-long', iss);
    const { jti } = payload;
    if (typeof jti !== 'string' || jti.length === 0) throw new Rejected('invalid-claim', iss);

    const claim = await replay.claim(`${iss}\u0000${jti}`, (payload.exp + skew) * MS_PER_SECOND, req.requestId);
    if (claim === 'replayed') throw new Rejected('replayed', iss);
    if (claim === 'full') throw new Rejected('replay-cache-full', iss);

    const client: AuthenticatedClient = { iss, jti };
    if (typeof payload.sub === 'string') client.sub = payload.sub;
    if (typeof payload.tenant === 'string') client.tenant = payload.tenant;
    return client;
  };

  return async function authenticate(req) {
    if (typeof req.audience !== 'string' || req.audience.length === 0) {
      throw new Error('authenticate: audience (the exact URL called) is required');
    }
    const requestId = req.requestId ? { requestId: req.requestId } : {};
    try {
      const client = await verify(req);
      logger.debug({ event: 'auth.accepted', iss: client.iss, ...requestId }, 'JWT accepted');
      return client;
    } catch (err) {
      const reason: RejectReason = err instanceof Rejected ? err.reason : 'verification-error';
      const iss = err instanceof Rejected ? err.iss : undefined;
      logger.warn({ event: 'auth.rejected', reason, ...(iss ? { iss } : {}), ...requestId }, 'JWT rejected');
      throw unauthorized();
    }
  };
}

function indexIssuers(list: TrustedIssuer[]): Map<string, TrustedIssuer> {
  const byIss = new Map<string, TrustedIssuer>();
  for (const issuer of list) {
    const problem = keyUrlProblem(issuer.jwks_uri) ?? issuer.jku?.map(keyUrlProblem).find((p) => p !== null) ?? null;
    if (problem) throw new Error(`trusted issuer ${issuer.iss}: key URL ${problem}`);
    if (byIss.has(issuer.iss)) throw new Error(`trusted issuer ${issuer.iss} is listed twice`);
    byIss.set(issuer.iss, issuer);
  }
  return byIss;
}

/** The token of a well-formed `Bearer <compact JWS>` header. */
function bearerToken(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim().length === 0) throw new Rejected('missing-header');
  if (!/^Bearer /i.test(authorization)) throw new Rejected('not-bearer');
  const match = BEARER.exec(authorization);
  if (!match?.[1]) throw new Rejected('malformed');
  return match[1];
}

/** `typ` JWT (RFC 7519 §5.1), also written application/jwt. */
function isJwtTyp(typ: string): boolean {
  const lower = typ.toLowerCase();
  return lower === 'jwt' || lower === 'application/jwt';
}

/** The canonical jku if it is the issuer's jwks_uri or on its jku allowlist; null otherwise. */
function jkuAllowed(issuer: TrustedIssuer, jku: string): string | null {
  const wanted = canonicalUrl(jku);
  if (!wanted) return null;
  const allowed = [issuer.jwks_uri, ...(issuer.jku ?? [])].map(canonicalUrl);
  return allowed.includes(wanted) ? wanted : null;
}

function classifyJoseError(err: unknown): RejectReason {
  const { code, claim, reason } = (err ?? {}) as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return 'missing-claim';
      if (claim === 'aud') return 'audience';
      if (claim === 'iss') return 'issuer';
      if (claim === 'nbf') return 'not-yet-valid';
      if (claim === 'typ') return 'bad-typ';
      return 'invalid-claim';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad-signature';
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'unknown-kid';
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'ambiguous-kid';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'alg-not-allowed';
    case 'ERR_JWT_INVALID':
    case 'ERR_JWS_INVALID':
      return 'malformed';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JOSE_GENERIC':
      return 'jwks-unavailable';
    default:
      return err instanceof TypeError ? 'jwks-unavailable' : 'verification-error';
  }
}

/**
 * The `aud` a call must carry: the service's configured public base URL plus the request path
 * (query dropped). Built from configuration, never from the Host header, which the caller controls.
 */
export function audienceFor(publicBaseUrl: string, requestPath: string): string {
  const base = publicBaseUrl.replace(/\/+$/, '');
  const path = requestPath.split('?')[0] ?? '';
  return `${base}${path.startsWith('/') ? path : `/${path}`}`;
}
