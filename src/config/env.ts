/**
 * The service's runtime configuration, read from the environment once at startup and checked: a bad value
 * stops the program with a message naming the variable (main.ts prints it and exits non-zero). Nothing
 * here is a protocol number (those live in cds-hooks/protocol-parameters.json), and nothing here is ever
 * shown in discovery (CH-D4).
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { packageRoot } from './paths';
import { normalizeBaseUrl } from '../fhir/allowlist';
import { parseTrustedIssuers, type TrustedIssuer } from '../security/trusted-issuers';
import { readSettings, SETTINGS } from './settings';

export interface ServiceConfig {
  port: number;
  /**
   * Address to listen on: HOST, or loopback (127.0.0.1) when unset, so nothing is exposed by accident;
   * null (all interfaces) only when a caller asks for it explicitly.
   */
  host: string | null;
  /** External base URL of the service, without trailing slash (JWT `aud` = this + the path called). */
  publicBaseUrl: string;
  /** null = authentication off; otherwise every CDS endpoint requires a valid JWT from one of these (CH-J1). */
  trustedIssuers: TrustedIssuer[] | null;
  /** FHIR base URLs the service may call; empty = loopback only (CH-J7). */
  fhirServerAllowlist: string[];
  /** Per-request timeout of outbound FHIR calls (ms). */
  fhirTimeoutMs: number;
  /** How many searchset pages are followed per prefetch key (CH-P6). */
  fhirMaxPages: number;
  /** SQLite file for feedback and audit rows (absolute path, or ':memory:'); unused when databaseUrl is set. */
  feedbackDb: string;
  /** postgres:// URL of the shared store (several instances); null = the SQLite file. */
  databaseUrl: string | null;
  /** PostgreSQL schema holding the tables (created at startup if missing). */
  databaseSchema: string;
  /** Largest accepted request body, in bytes (CH-R4: larger → 413). */
  requestLimitBytes: number;
  /** Time budget of one service call (ms): past it the service answers with no recommendation (CH-B2). */
  deadlineMs: number;
  /** CQL evaluation worker threads (src/cql/pool.ts); 0 = evaluate on the HTTP thread. Default: the CPU count. */
  evalWorkers: number;
  /** Allowed CORS origins; ['*'] = any origin, without credentials (CH-J8). */
  corsOrigins: string[];
  logLevel: string;
  /** Absolute URL of the protocol documentation linked from every card. */
  docsUrl: string;
  /** IANA time zone for every time a clinician reads (cards, the demo page); 'UTC' by default (CDS_TIME_ZONE). */
  timeZone: string;
  /** Largest FHIR response body read on the fallback path, in bytes (FHIR_MAX_RESPONSE_BYTES). */
  fhirMaxResponseBytes: number;
  /** Largest total of FHIR response bytes one call reads (FHIR_MAX_CALL_BYTES). */
  fhirMaxCallBytes: number;
  /** Most resources one prefetch key may carry, prefetched or fetched (PREFETCH_MAX_ENTRIES). */
  prefetchMaxEntries: number;
  /** Longest accepted JWT lifetime `exp − iat`, in seconds, before the clock-skew allowance (JWT_MAX_LIFETIME_SECONDS). */
  jwtMaxLifetimeSeconds: number;
  /** Longest wait for the store's verdict on a JWT's jti before this instance's memory decides (REPLAY_STORE_TIMEOUT_MS). */
  replayStoreTimeoutMs: number;
  /** Most feedback items accepted in one POST …/feedback (FEEDBACK_MAX_ITEMS). */
  feedbackMaxItems: number;
  /** Longest feedback comment and override-reason code, in characters (FEEDBACK_MAX_TEXT_LENGTH, …_CODE_LENGTH). */
  feedbackTextLimits: { comment: number; code: number; suggestions: number };
  /** Proxies trusted for the client address (TRUST_PROXY): false = none, a hop count, or addresses/CIDR ranges. */
  trustProxy: TrustProxy;
  /** Requests per minute per client on /cds-services (RATE_LIMIT_PER_MINUTE); 0 = no limit. */
  rateLimitPerMinute: number;
  /** The demo's writable FHIR server answers clients off loopback too (DEMO_FHIR_PUBLIC=on; default off). */
  demoFhirPublic: boolean;
  /** Bearer credential of the effectiveness report (REPORTS_TOKEN); null = reports off (demo: loopback only). */
  reportsToken: string | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The static defaults, as declared in the settings schema (src/config/settings.schema.json). */
const declared = <T extends string | number>(name: string): T => SETTINGS[name]?.default as T;

const DEFAULTS = {
  port: declared<number>('PORT'),
  requestLimit: declared<string>('REQUEST_LIMIT'),
  deadlineMs: declared<number>('DEADLINE_MS'),
  fhirMaxPages: declared<number>('FHIR_MAX_PAGES'),
  corsOrigins: declared<string>('CORS_ORIGINS'),
  logLevel: declared<string>('LOG_LEVEL'),
  /** Relative to the package root (FEEDBACK_DB has no static default in the schema for that reason). */
  feedbackDb: 'data/ketamine-cds.sqlite',
  timeZone: declared<string>('CDS_TIME_ZONE'),
  host: declared<string>('HOST'),
  fhirMaxResponseBytes: declared<string>('FHIR_MAX_RESPONSE_BYTES'),
  fhirMaxCallBytes: declared<string>('FHIR_MAX_CALL_BYTES'),
  prefetchMaxEntries: declared<number>('PREFETCH_MAX_ENTRIES'),
  jwtMaxLifetimeSeconds: declared<number>('JWT_MAX_LIFETIME_SECONDS'),
  replayStoreTimeoutMs: declared<number>('REPLAY_STORE_TIMEOUT_MS'),
  feedbackMaxItems: declared<number>('FEEDBACK_MAX_ITEMS'),
  feedbackMaxTextLength: declared<number>('FEEDBACK_MAX_TEXT_LENGTH'),
  feedbackMaxCodeLength: declared<number>('FEEDBACK_MAX_CODE_LENGTH'),
  feedbackMaxSuggestions: declared<number>('FEEDBACK_MAX_SUGGESTIONS'),
  trustProxy: declared<string>('TRUST_PROXY'),
  rateLimitPerMinute: declared<number>('RATE_LIMIT_PER_MINUTE'),
  databaseSchema: declared<string>('DATABASE_SCHEMA'),
} as const;

const ON = ['on', 'true', '1', 'yes'];

/** Shortest REPORTS_TOKEN accepted (a guessable report credential is refused at startup). */
const REPORTS_TOKEN_MIN_LENGTH = 32;

/** True when the runtime knows this IANA zone name (Intl throws a RangeError otherwise). */
function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** "2mb", "500kb", "1048576" → bytes; null when unreadable. */
export function parseByteSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)?$/i.exec(text.trim());
  if (!match) return null;
  const bytes = Math.floor(Number(match[1]) * (BYTE_UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1));
  return bytes > 0 ? bytes : null;
}

/** An absolute http(s) URL without query or fragment, trailing slashes removed; null when not. */
function absoluteBase(text: string): string | null {
  try {
    const url = new URL(text);
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.search ||
      url.hash ||
      url.username ||
      url.password
    )
      return null;
    return url.href.replace(/\/+$/, '');
  } catch {
    return null;
  }
}

/** express's `trust proxy`: false (the TCP peer is the client), a hop count, or the trusted proxies' addresses. */
type TrustProxy = false | number | string[];

/** The names proxy-addr (express) gives to address ranges. */
const PROXY_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * TRUST_PROXY as express takes it: `off` → false, digits → a hop count (0 = off), else a comma-separated list
 * of range names, IP addresses and CIDR ranges; null when unreadable. `true` is refused: trusting every
 * sender lets any client choose its own address with X-Forwarded-For.
 */
function parseTrustProxy(text: string): TrustProxy | null {
  const value = text.trim().toLowerCase();
  if (value === 'off') return false;
  if (/^\d{1,3}$/.test(value)) return Number(value) === 0 ? false : Number(value);
  const entries = list(value);
  const valid = (entry: string) => {
    if (PROXY_RANGES.includes(entry) || isIP(entry) !== 0) return true;
    const [address = '', prefix, ...rest] = entry.split('/');
    const family = isIP(address);
    if (family === 0 || prefix === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefix)) return false;
    return Number(prefix) <= (family === 4 ? 32 : 128);
  };
  return entries.length > 0 && entries.every(valid) ? entries : null;
}

/** An IPv4/IPv6 address, or a DNS host name (letters, digits, hyphens, dots). */
function isListenAddress(text: string): boolean {
  if (isIP(text) !== 0) return true;
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  return text.length <= 253 && text.split('.').every((part) => label.test(part));
}

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

/**
 * Reads and checks every variable; all problems are reported at once. The schema
 * (src/config/settings.schema.json) checks types, ranges, patterns and allowed values first; what it cannot
 * express is checked here, on the values it let through.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): { config: ServiceConfig; warnings: string[] } {
  const { values, problems } = readSettings(env);
  const warnings: string[] = [];
  const text = (name: string): string | undefined => values[name] as string | undefined;
  const integer = (name: string, fallback: number): number => (values[name] as number | undefined) ?? fallback;

  const port = integer('PORT', DEFAULTS.port);

  const host = text('HOST') ?? DEFAULTS.host;
  if (!isListenAddress(host)) {
    problems.push(
      `HOST must be an IP address (127.0.0.1, 0.0.0.0, ::1, ::) or a host name like localhost (got ${JSON.stringify(host)})`,
    );
  }

  const rawBase = text('CDS_PUBLIC_BASE_URL');
  let publicBaseUrl = `http://localhost:${port}`;
  if (rawBase !== undefined) {
    const base = absoluteBase(rawBase);
    if (base === null)
      problems.push(
        `CDS_PUBLIC_BASE_URL must be an absolute http(s) URL without query or fragment (got ${JSON.stringify(rawBase)})`,
      );
    else publicBaseUrl = base;
  }

  let trustedIssuers: TrustedIssuer[] | null = null;
  const rawIssuers = text('CDS_TRUSTED_ISSUERS');
  if (rawIssuers !== undefined) {
    try {
      trustedIssuers = parseTrustedIssuers(rawIssuers);
    } catch (err) {
      problems.push((err as Error).message);
    }
  } else {
    warnings.push(
      'CDS_TRUSTED_ISSUERS is not set: authentication is OFF, any caller can use the service (development only)',
    );
  }

  const fhirServerAllowlist = list(text('FHIR_SERVER_ALLOWLIST'));
  for (const entry of fhirServerAllowlist) {
    if (normalizeBaseUrl(entry) === null)
      problems.push(
        `FHIR_SERVER_ALLOWLIST entry ${JSON.stringify(entry)} is not an absolute http(s) base URL without query, fragment or credentials`,
      );
  }
  if (fhirServerAllowlist.length === 0) {
    warnings.push(
      'FHIR_SERVER_ALLOWLIST is not set: the service fetches FHIR data only from loopback servers (localhost)',
    );
  }

  const deadlineMs = integer('DEADLINE_MS', DEFAULTS.deadlineMs);
  const fhirTimeoutMs = integer('FHIR_TIMEOUT_MS', deadlineMs);
  const fhirMaxPages = integer('FHIR_MAX_PAGES', DEFAULTS.fhirMaxPages);
  const evalWorkers = integer('EVAL_WORKERS', availableParallelism());

  const size = (name: string, fallback: string): number => {
    const raw = text(name);
    if (raw === undefined) return parseByteSize(fallback) ?? 0; // unset, or already reported by the schema
    const bytes = parseByteSize(raw);
    if (bytes === null)
      problems.push(`${name} must be a size like ${fallback}, 500kb or 1048576 (got ${JSON.stringify(raw)})`);
    return bytes ?? 0;
  };
  const requestLimitBytes = size('REQUEST_LIMIT', DEFAULTS.requestLimit);

  const corsOrigins = list(text('CORS_ORIGINS') ?? DEFAULTS.corsOrigins);
  for (const origin of corsOrigins) {
    if (origin === '*') continue;
    const base = absoluteBase(origin);
    if (base === null || new URL(base).origin !== base)
      problems.push(
        `CORS_ORIGINS entry ${JSON.stringify(origin)} must be '*' or an origin like https://ehr.example.org`,
      );
  }
  if (corsOrigins.includes('*') && corsOrigins.length > 1)
    problems.push(`CORS_ORIGINS must be either '*' or a list of origins, not both`);

  const logLevel = text('LOG_LEVEL') ?? DEFAULTS.logLevel;

  const rawDocs = text('DOCS_URL');
  let docsUrl = `${publicBaseUrl}/docs/protocol`;
  if (rawDocs !== undefined) {
    try {
      const url = new URL(rawDocs);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
      docsUrl = url.href;
    } catch {
      problems.push(`DOCS_URL must be an absolute http(s) URL (got ${JSON.stringify(rawDocs)})`);
    }
  }

  const rawDb = text('FEEDBACK_DB');
  const feedbackDb =
    rawDb === ':memory:' ? rawDb : path.resolve(rawDb ?? path.join(packageRoot(), DEFAULTS.feedbackDb));

  // DATABASE_URL (postgres:// or postgresql://) and DATABASE_SCHEMA (an SQL identifier) are checked by the schema.
  const databaseUrl = text('DATABASE_URL') ?? null;
  const databaseSchema = text('DATABASE_SCHEMA') ?? DEFAULTS.databaseSchema;

  const timeZone = text('CDS_TIME_ZONE') ?? DEFAULTS.timeZone;
  if (!isTimeZone(timeZone))
    problems.push(
      `CDS_TIME_ZONE must be an IANA time zone like America/New_York or UTC (got ${JSON.stringify(timeZone)})`,
    );

  const fhirMaxResponseBytes = size('FHIR_MAX_RESPONSE_BYTES', DEFAULTS.fhirMaxResponseBytes);
  const fhirMaxCallBytes = size('FHIR_MAX_CALL_BYTES', DEFAULTS.fhirMaxCallBytes);
  if (fhirMaxCallBytes > 0 && fhirMaxResponseBytes > fhirMaxCallBytes)
    problems.push('FHIR_MAX_CALL_BYTES must be at least FHIR_MAX_RESPONSE_BYTES');
  const prefetchMaxEntries = integer('PREFETCH_MAX_ENTRIES', DEFAULTS.prefetchMaxEntries);
  const jwtMaxLifetimeSeconds = integer('JWT_MAX_LIFETIME_SECONDS', DEFAULTS.jwtMaxLifetimeSeconds);
  const replayStoreTimeoutMs = integer('REPLAY_STORE_TIMEOUT_MS', DEFAULTS.replayStoreTimeoutMs);
  const feedbackMaxItems = integer('FEEDBACK_MAX_ITEMS', DEFAULTS.feedbackMaxItems);
  const feedbackTextLimits = {
    comment: integer('FEEDBACK_MAX_TEXT_LENGTH', DEFAULTS.feedbackMaxTextLength),
    code: integer('FEEDBACK_MAX_CODE_LENGTH', DEFAULTS.feedbackMaxCodeLength),
    suggestions: integer('FEEDBACK_MAX_SUGGESTIONS', DEFAULTS.feedbackMaxSuggestions),
  };
  const rawTrustProxy = text('TRUST_PROXY') ?? DEFAULTS.trustProxy;
  const trustProxy = parseTrustProxy(rawTrustProxy);
  if (trustProxy === null)
    problems.push(
      `TRUST_PROXY ${SETTINGS.TRUST_PROXY?.problem ?? 'is invalid'} (got ${JSON.stringify(rawTrustProxy)})` +
        (['true', 'on', 'yes'].includes(rawTrustProxy)
          ? ': trusting every sender would let any client pick its address'
          : ''),
    );
  const rateLimitPerMinute = integer('RATE_LIMIT_PER_MINUTE', DEFAULTS.rateLimitPerMinute);

  const demoFhirPublic = ON.includes(text('DEMO_FHIR_PUBLIC') ?? 'off');
  if (demoFhirPublic)
    warnings.push(
      'DEMO_FHIR_PUBLIC=on: the demo FHIR server (writable, resettable, no authentication) answers ANY client that can reach the port',
    );

  // A secret: its value is never quoted in a message.
  const reportsToken = text('REPORTS_TOKEN') ?? null;
  if (reportsToken !== null && (reportsToken.length < REPORTS_TOKEN_MIN_LENGTH || /\s/.test(reportsToken)))
    problems.push(
      `REPORTS_TOKEN must be at least ${REPORTS_TOKEN_MIN_LENGTH} characters without spaces (a random secret, e.g. openssl rand -hex 32)`,
    );

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    config: {
      port,
      host,
      publicBaseUrl,
      trustedIssuers,
      fhirServerAllowlist,
      fhirTimeoutMs,
      fhirMaxPages,
      feedbackDb,
      databaseUrl,
      databaseSchema,
      requestLimitBytes,
      deadlineMs,
      evalWorkers,
      corsOrigins,
      logLevel,
      docsUrl,
      timeZone,
      fhirMaxResponseBytes,
      fhirMaxCallBytes,
      prefetchMaxEntries,
      jwtMaxLifetimeSeconds,
      replayStoreTimeoutMs,
      feedbackMaxItems,
      feedbackTextLimits,
      rateLimitPerMinute,
      trustProxy: trustProxy ?? false,
      demoFhirPublic,
      reportsToken,
    },
    warnings,
  };
}
