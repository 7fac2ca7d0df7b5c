import path from 'node:path';
import { loadConfig, parseByteSize } from '../../src/config/env';
import { configProblems } from '../support/config';

const issuers = JSON.stringify([
  { iss: 'https://sandbox.cds-hooks.org', jwks_uri: 'https://sandbox.cds-hooks.org/.well-known/jwks.json' },
]);

const problems = configProblems;

describe('configuration from the environment', () => {
  it('with nothing set, uses the defaults and warns that authentication is off and FHIR is loopback-only', () => {
    const { config, warnings } = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      publicBaseUrl: 'http://localhost:3000',
      trustedIssuers: null,
      fhirServerAllowlist: [],
      requestLimitBytes: 2 * 1024 * 1024,
      deadlineMs: 2000,
      corsOrigins: ['*'],
      logLevel: 'info',
      docsUrl: 'http://localhost:3000/docs/protocol',
      fhirMaxResponseBytes: 4 * 1024 * 1024,
      fhirMaxCallBytes: 16 * 1024 * 1024,
      prefetchMaxEntries: 5000,
      jwtMaxLifetimeSeconds: 300,
      feedbackMaxItems: 100,
      demoFhirPublic: false,
    });
    expect(path.isAbsolute(config.feedbackDb)).toBe(true);
    expect(config.feedbackDb).toMatch(/data[\\/]ketamine-cds\.sqlite$/);
    expect(warnings.join('\n')).toMatch(/CDS_TRUSTED_ISSUERS/);
    expect(warnings.join('\n')).toMatch(/FHIR_SERVER_ALLOWLIST/);
  });

  it('reads every variable', () => {
    const { config, warnings } = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      CDS_PUBLIC_BASE_URL: 'https://cds.example.org/ketamine/',
      CDS_TRUSTED_ISSUERS: issuers,
      FHIR_SERVER_ALLOWLIST: 'https://ehr.example.org/fhir/R4, https://other.example.org/fhir',
      FEEDBACK_DB: ':memory:',
      REQUEST_LIMIT: '500kb',
      DEADLINE_MS: '1500',
      FHIR_TIMEOUT_MS: '1200',
      FHIR_MAX_PAGES: '3',
      CORS_ORIGINS: 'https://ehr.example.org,https://sandbox.cds-hooks.org',
      LOG_LEVEL: 'warn',
      DOCS_URL: 'https://intranet.example.org/ketamine-protocol',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      publicBaseUrl: 'https://cds.example.org/ketamine',
      trustedIssuers: [{ iss: 'https://sandbox.cds-hooks.org' }],
      fhirServerAllowlist: ['https://ehr.example.org/fhir/R4', 'https://other.example.org/fhir'],
      feedbackDb: ':memory:',
      requestLimitBytes: 500 * 1024,
      deadlineMs: 1500,
      fhirTimeoutMs: 1200,
      fhirMaxPages: 3,
      corsOrigins: ['https://ehr.example.org', 'https://sandbox.cds-hooks.org'],
      logLevel: 'warn',
      docsUrl: 'https://intranet.example.org/ketamine-protocol',
    });
    expect(warnings).toEqual([]);
  });

  it('HOST takes IPv4 and IPv6 addresses and host names; unset means loopback only (127.0.0.1)', () => {
    for (const host of ['0.0.0.0', '127.0.0.1', '::', '::1', 'localhost', 'cds-1.internal.example.org']) {
      expect(loadConfig({ HOST: host }).config.host).toBe(host);
    }
    expect(loadConfig({ HOST: '  ' }).config.host).toBe('127.0.0.1');
    expect(loadConfig({}).config.host).toBe('127.0.0.1');
  });

  it('reads the limits: FHIR bytes per response and per call, entries per key, token lifetime, feedback items', () => {
    const { config } = loadConfig({
      FHIR_MAX_RESPONSE_BYTES: '1mb',
      FHIR_MAX_CALL_BYTES: '3mb',
      PREFETCH_MAX_ENTRIES: '200',
      JWT_MAX_LIFETIME_SECONDS: '120',
      FEEDBACK_MAX_ITEMS: '10',
    });
    expect(config).toMatchObject({
      fhirMaxResponseBytes: 1024 * 1024,
      fhirMaxCallBytes: 3 * 1024 * 1024,
      prefetchMaxEntries: 200,
      jwtMaxLifetimeSeconds: 120,
      feedbackMaxItems: 10,
    });
  });

  it('when DEMO_FHIR_PUBLIC is on, the configuration says so and warns loudly', () => {
    const { config, warnings } = loadConfig({ DEMO_FHIR_PUBLIC: 'on' });
    expect(config.demoFhirPublic).toBe(true);
    expect(warnings.join('\n')).toMatch(/DEMO_FHIR_PUBLIC=on.*ANY client/);
  });

  it('the docs URL follows the public base URL by default', () => {
    expect(loadConfig({ CDS_PUBLIC_BASE_URL: 'https://cds.example.org' }).config.docsUrl).toBe(
      'https://cds.example.org/docs/protocol',
    );
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ HOST: 'http://127.0.0.1' }, /HOST/],
    [{ HOST: '127.0.0.1:3000' }, /HOST/],
    [{ HOST: 'bad host' }, /HOST/],
    [{ CDS_PUBLIC_BASE_URL: 'cds.example.org' }, /CDS_PUBLIC_BASE_URL/],
    [{ CDS_TRUSTED_ISSUERS: '{not json' }, /CDS_TRUSTED_ISSUERS/],
    [{ CDS_TRUSTED_ISSUERS: '[{"iss":"x","jwks_uri":"http://evil.example.com/jwks"}]' }, /jwks_uri/],
    [{ FHIR_SERVER_ALLOWLIST: 'ehr.example.org' }, /FHIR_SERVER_ALLOWLIST/],
    [{ REQUEST_LIMIT: 'a lot' }, /REQUEST_LIMIT/],
    [{ DEADLINE_MS: '0' }, /DEADLINE_MS/],
    [{ FHIR_MAX_RESPONSE_BYTES: 'huge' }, /FHIR_MAX_RESPONSE_BYTES/],
    [{ FHIR_MAX_RESPONSE_BYTES: '8mb', FHIR_MAX_CALL_BYTES: '4mb' }, /FHIR_MAX_CALL_BYTES/],
    [{ PREFETCH_MAX_ENTRIES: '0' }, /PREFETCH_MAX_ENTRIES/],
    [{ JWT_MAX_LIFETIME_SECONDS: 'forever' }, /JWT_MAX_LIFETIME_SECONDS/],
    [{ FEEDBACK_MAX_ITEMS: '-1' }, /FEEDBACK_MAX_ITEMS/],
    [{ DEMO_FHIR_PUBLIC: 'maybe' }, /DEMO_FHIR_PUBLIC/],
    [{ DEADLINE_MS: '-5' }, /DEADLINE_MS/],
    [{ CORS_ORIGINS: 'https://ehr.example.org/path' }, /CORS_ORIGINS/],
    [{ CORS_ORIGINS: '*,https://ehr.example.org' }, /CORS_ORIGINS/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ DOCS_URL: 'docs/protocol' }, /DOCS_URL/],
  ])('a bad value (%p) stops startup with a message naming the variable', (env, name) => {
    expect(problems(env).join('\n')).toMatch(name);
  });

  it('reports every bad variable at once', () => {
    expect(problems({ PORT: 'x', LOG_LEVEL: 'loud', DEADLINE_MS: 'soon' })).toHaveLength(3);
  });

  it('reads byte sizes', () => {
    expect(parseByteSize('2mb')).toBe(2 * 1024 * 1024);
    expect(parseByteSize('100KB')).toBe(100 * 1024);
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize('0')).toBeNull();
    expect(parseByteSize('1gb')).toBeNull();
  });
});
