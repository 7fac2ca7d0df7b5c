import {
  createAuthenticator,
  type AuthenticatorConfig,
  type Authenticate,
  DEFAULT_CLOCK_SKEW_SECONDS,
} from '../../src/security/jwt';
import { OperationOutcomeError } from '../../src/errors';
import { createLogger } from '../../src/log';
import {
  defaultClaims,
  loadJose,
  makeKey,
  memoryLog,
  signToken,
  startJwksServer,
  unsignedToken,
  type Jose,
  type JwksServer,
  type SigningKey,
  type TokenOptions,
} from './jwt-fixtures';

const ISS = 'https://ehr.example.org';
const OTHER_ISS = 'https://other-ehr.example.org';
const AUD = 'https://cds.example.org/cds-services/ketamine-order-select';
const JWKS_PATH = '/ehr/jwks.json';
const ALT_JKU_PATH = '/ehr/alt-jwks.json';
const OTHER_JWKS_PATH = '/other/jwks.json';
const EVIL_PATH = '/evil/jwks.json';
/** Pinned "now" for the authenticator and the tokens (seconds). */
const NOW_S = Math.floor(Date.now() / 1000);
const NOW_MS = NOW_S * 1000;

let jose: Jose;
let server: JwksServer;
let es384: SigningKey;
let rs384: SigningKey;
let rs256: SigningKey;
let otherKey: SigningKey;

beforeAll(async () => {
  jose = await loadJose();
  server = await startJwksServer();
  [es384, rs384, rs256, otherKey] = await Promise.all([
    makeKey(jose, 'ES384'),
    makeKey(jose, 'RS384'),
    makeKey(jose, 'RS256'),
    makeKey(jose, 'ES384'),
  ]);
});

afterAll(async () => {
  await server.close();
});

/** A fresh JWKS path per test keeps the fetch counts independent. */
let testNo = 0;
let paths: { jwks: string; alt: string; other: string; evil: string };

beforeEach(() => {
  testNo += 1;
  paths = {
    jwks: `/t${testNo}${JWKS_PATH}`,
    alt: `/t${testNo}${ALT_JKU_PATH}`,
    other: `/t${testNo}${OTHER_JWKS_PATH}`,
    evil: `/t${testNo}${EVIL_PATH}`,
  };
  // The EHR publishes every key it owns, including the RS256 one, so an RS256 refusal is policy, not a missing key.
  server.serve(paths.jwks, { keys: [es384.publicJwk, rs384.publicJwk, rs256.publicJwk] });
  server.serve(paths.alt, { keys: [es384.publicJwk] });
  server.serve(paths.other, { keys: [otherKey.publicJwk] });
  server.serve(paths.evil, { keys: [es384.publicJwk] });
});

function authenticator(overrides: Partial<AuthenticatorConfig> = {}): {
  authenticate: Authenticate;
  log: ReturnType<typeof memoryLog>;
} {
  const log = memoryLog();
  const authenticate = createAuthenticator({
    trustedIssuers: [
      { iss: ISS, jwks_uri: server.url(paths.jwks), jku: [server.url(paths.alt)] },
      { iss: OTHER_ISS, jwks_uri: server.url(paths.other) },
    ],
    now: () => NOW_MS,
    logger: createLogger({ level: 'debug', destination: log.destination }),
    ...overrides,
  });
  return { authenticate, log };
}

const token = (key: SigningKey, options: TokenOptions = {}, iss = ISS) =>
  signToken(jose, key, defaultClaims(iss, AUD, NOW_S), options);
const bearer = (jwt: string) => `Bearer ${jwt}`;

/** Resolves to the 401 the call failed with (fails the test if it succeeded or failed otherwise). */
async function refused(
  authenticate: Authenticate,
  authorization: string | undefined,
  audience = AUD,
): Promise<OperationOutcomeError> {
  const error = await authenticate({ authorization, audience }).then(
    () => {
      throw new Error('expected the token to be refused');
    },
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(OperationOutcomeError);
  expect((error as OperationOutcomeError).status).toBe(401);
  return error as OperationOutcomeError;
}

const reasons = (log: ReturnType<typeof memoryLog>) =>
  log.lines
    .map((line) => JSON.parse(line) as { event?: string; reason?: string; iss?: string })
    .filter((l) => l.event === 'auth.rejected');

describe('CH-J1 the Authorization header', () => {
  it('CH-J1 when the header is missing, the call is refused with 401', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, undefined);
    expect(reasons(log).map((r) => r.reason)).toEqual(['missing-header']);
  });

  it('CH-J1 when the scheme is not Bearer (Basic, bare token, empty Bearer), the call is refused with 401', async () => {
    const { authenticate, log } = authenticator();
    const jwt = await token(es384);
    await refused(authenticate, 'Basic dXNlcjpwYXNz');
    await refused(authenticate, jwt);
    await refused(authenticate, 'Bearer ');
    await refused(authenticate, 'Bearer not-a-jwt');
    expect(reasons(log).map((r) => r.reason)).toEqual(['not-bearer', 'not-bearer', 'malformed', 'malformed']);
    expect(server.hits(paths.jwks)).toBe(0);
  });

  it('CH-J1 a well-signed Bearer JWT is accepted and tells who called', async () => {
    const { authenticate } = authenticator();
    const jwt = await token(es384, { claims: { tenant: 'hospital-a', sub: 'epic-client' } });
    const client = await authenticate({ authorization: bearer(jwt), audience: AUD });
    expect(client).toEqual({ iss: ISS, sub: 'epic-client', tenant: 'hospital-a', jti: expect.any(String) });
    // the scheme is case-insensitive (RFC 7235)
    const second = await token(es384);
    await expect(authenticate({ authorization: `bearer ${second}`, audience: AUD })).resolves.toMatchObject({
      iss: ISS,
    });
  });
});

describe('CH-J2 the JWT header', () => {
  it('CH-J2 ES384 and RS384 are accepted', async () => {
    const { authenticate } = authenticator();
    await expect(authenticate({ authorization: bearer(await token(es384)), audience: AUD })).resolves.toMatchObject({
      iss: ISS,
    });
    await expect(authenticate({ authorization: bearer(await token(rs384)), audience: AUD })).resolves.toMatchObject({
      iss: ISS,
    });
  });

  it('CH-J2 alg none is refused before any key is fetched', async () => {
    const { authenticate, log } = authenticator();
    const jwt = unsignedToken({ kid: es384.kid, typ: 'JWT' }, defaultClaims(ISS, AUD, NOW_S));
    await refused(authenticate, bearer(jwt));
    expect(reasons(log)[0]?.reason).toBe('alg-not-allowed');
    expect(server.hits(paths.jwks)).toBe(0);
  });

  it.each(['HS256', 'HS384'])(
    'CH-J2 HMAC %s is refused (no shared-secret confusion with the public key)',
    async (alg) => {
      const { authenticate, log } = authenticator();
      const secret = new TextEncoder().encode(JSON.stringify(es384.publicJwk));
      const jwt = await new jose.SignJWT(defaultClaims(ISS, AUD, NOW_S))
        .setProtectedHeader({ alg, kid: es384.kid, typ: 'JWT' })
        .sign(secret);
      await refused(authenticate, bearer(jwt));
      expect(reasons(log)[0]?.reason).toBe('alg-not-allowed');
      expect(server.hits(paths.jwks)).toBe(0);
    },
  );

  it('CH-J2 RS256 is refused even though the key is in the issuer JWKS', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(rs256)));
    expect(reasons(log)[0]?.reason).toBe('alg-not-allowed');
    expect(server.hits(paths.jwks)).toBe(0);
  });

  it('CH-J2 a token without kid is refused', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, { header: { kid: undefined } })));
    expect(reasons(log)[0]?.reason).toBe('missing-kid');
    expect(server.hits(paths.jwks)).toBe(0);
  });

  it('CH-J2 typ must be JWT (missing or another type is refused)', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, { header: { typ: undefined } })));
    await refused(authenticate, bearer(await token(es384, { header: { typ: 'at+jwt' } })));
    expect(reasons(log).map((r) => r.reason)).toEqual(['bad-typ', 'bad-typ']);
  });

  it('CH-J2 CH-J4 a jku off the issuer allowlist is refused and never fetched', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, { header: { jku: server.url(paths.evil) } })));
    await refused(
      authenticate,
      bearer(await token(es384, { header: { jku: 'http://169.254.169.254/latest/meta-data' } })),
    );
    // the other issuer's JWKS is not this issuer's
    await refused(authenticate, bearer(await token(es384, { header: { jku: server.url(paths.other) } })));
    expect(reasons(log).map((r) => r.reason)).toEqual(['jku-not-allowed', 'jku-not-allowed', 'jku-not-allowed']);
    expect(server.hits(paths.evil)).toBe(0);
    expect(server.hits(paths.other)).toBe(0);
    expect(server.hits(paths.jwks)).toBe(0);
  });

  it('CH-J2 CH-J4 a jku on the allowlist (or equal to jwks_uri) is where the keys come from', async () => {
    const { authenticate } = authenticator();
    await authenticate({
      authorization: bearer(await token(es384, { header: { jku: server.url(paths.alt) } })),
      audience: AUD,
    });
    expect(server.hits(paths.alt)).toBe(1);
    expect(server.hits(paths.jwks)).toBe(0);
    await authenticate({
      authorization: bearer(await token(es384, { header: { jku: server.url(paths.jwks) } })),
      audience: AUD,
    });
    expect(server.hits(paths.jwks)).toBe(1);
  });
});

describe('CH-J3 the JWT claims', () => {
  it('CH-J3 aud must be the exact URL called: another URL or a trailing-slash variant is refused', async () => {
    const { authenticate, log } = authenticator();
    await refused(
      authenticate,
      bearer(await token(es384, { claims: { aud: 'https://cds.example.org/cds-services/other' } })),
    );
    await refused(authenticate, bearer(await token(es384, { claims: { aud: `${AUD}/` } })));
    await refused(authenticate, bearer(await token(es384)), `${AUD}/feedback`);
    expect(reasons(log).map((r) => r.reason)).toEqual(['audience', 'audience', 'audience']);
  });

  it('CH-J3 aud as an array containing the URL called is accepted', async () => {
    const { authenticate } = authenticator();
    const jwt = await token(es384, { claims: { aud: ['https://cds.example.org/cds-services', AUD] } });
    await expect(authenticate({ authorization: bearer(jwt), audience: AUD })).resolves.toMatchObject({ iss: ISS });
  });

  it.each(['jti', 'exp', 'iat', 'aud'])('CH-J3 a token without %s is refused', async (claim) => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, { claims: { [claim]: undefined } })));
    expect(reasons(log)[0]?.reason).toBe('missing-claim');
  });

  it('CH-J3 a token without iss is refused before any key is fetched', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, { claims: { iss: undefined } })));
    expect(reasons(log)[0]?.reason).toBe('missing-iss');
    expect(server.hits(paths.jwks)).toBe(0);
  });

  it('CH-J3 an empty or non-string jti is refused', async () => {
    const { authenticate } = authenticator();
    await refused(authenticate, bearer(await token(es384, { claims: { jti: '' } })));
    await refused(authenticate, bearer(await token(es384, { claims: { jti: 42 } })));
  });
});

describe('CH-J4 trusted issuers and their keys', () => {
  it('CH-J4 an issuer not on the allowlist is refused and nothing is fetched', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, {}, 'https://attacker.example.com')));
    expect(reasons(log)[0]).toEqual(expect.objectContaining({ reason: 'untrusted-iss' }));
    expect(reasons(log)[0]?.iss).toBeUndefined();
    for (const path of Object.values(paths)) expect(server.hits(path)).toBe(0);
  });

  it("CH-J4 a token signed with a key outside the issuer's JWKS is refused, even with a trusted kid", async () => {
    const { authenticate, log } = authenticator();
    const impostor = { ...(await makeKey(jose, 'ES384')), kid: es384.kid };
    await refused(authenticate, bearer(await token(impostor)));
    // another trusted issuer's key does not sign for this issuer
    await refused(authenticate, bearer(await token(otherKey)));
    expect(reasons(log).map((r) => r.reason)).toEqual(['bad-signature', 'unknown-kid']);
  });

  it('CH-J4 the JWKS is fetched once per issuer, then served from the cache', async () => {
    const { authenticate } = authenticator();
    for (const key of [es384, rs384, es384])
      await authenticate({ authorization: bearer(await token(key)), audience: AUD });
    await authenticate({ authorization: bearer(await token(otherKey, {}, OTHER_ISS)), audience: AUD });
    expect(server.hits(paths.jwks)).toBe(1);
    expect(server.hits(paths.other)).toBe(1);
  });

  it('CH-J4 key rotation: a new kid triggers one refetch and the new key is accepted', async () => {
    const { authenticate } = authenticator({ jwksCooldownMs: 0 });
    await authenticate({ authorization: bearer(await token(es384)), audience: AUD });
    expect(server.hits(paths.jwks)).toBe(1);

    const rotated = await makeKey(jose, 'ES384');
    server.serve(paths.jwks, { keys: [rotated.publicJwk] });
    await expect(authenticate({ authorization: bearer(await token(rotated)), audience: AUD })).resolves.toMatchObject({
      iss: ISS,
    });
    expect(server.hits(paths.jwks)).toBe(2);
    // the retired key is gone from the cache too
    await refused(authenticate, bearer(await token(es384)));
  });

  it('CH-J4 within the cooldown an unknown kid does not hammer the EHR JWKS endpoint', async () => {
    const { authenticate, log } = authenticator();
    await authenticate({ authorization: bearer(await token(es384)), audience: AUD });
    const stranger = await makeKey(jose, 'ES384');
    await refused(authenticate, bearer(await token(stranger)));
    await refused(authenticate, bearer(await token(stranger)));
    expect(server.hits(paths.jwks)).toBe(1);
    expect(reasons(log).map((r) => r.reason)).toEqual(['unknown-kid', 'unknown-kid']);
  });

  it('CH-J4 an unreachable JWKS is a 401, not a crash', async () => {
    const { authenticate, log } = authenticator({
      trustedIssuers: [{ iss: ISS, jwks_uri: server.url(`/t${testNo}/missing.json`) }],
    });
    await refused(authenticate, bearer(await token(es384)));
    expect(reasons(log)[0]?.reason).toBe('jwks-unavailable');
  });

  it('CH-J4 the JWKS can be fetched through an injected fetch', async () => {
    const fetched: string[] = [];
    const { authenticate } = authenticator({
      trustedIssuers: [{ iss: ISS, jwks_uri: 'https://ehr.example.org/.well-known/jwks.json' }],
      fetchJwks: async (url) => {
        fetched.push(url);
        return new Response(JSON.stringify({ keys: [es384.publicJwk] }), {
          headers: { 'content-type': 'application/json' },
        });
      },
    });
    await authenticate({ authorization: bearer(await token(es384)), audience: AUD });
    await authenticate({ authorization: bearer(await token(es384)), audience: AUD });
    expect(fetched).toEqual(['https://ehr.example.org/.well-known/jwks.json']);
  });

  it('CH-J4 a trusted issuer with a plain-http, non-loopback key URL is a configuration error', () => {
    expect(() =>
      createAuthenticator({ trustedIssuers: [{ iss: ISS, jwks_uri: 'http://ehr.example.org/jwks' }] }),
    ).toThrow(/https/);
  });
});

describe('CH-J5 time and replay', () => {
  const skew = DEFAULT_CLOCK_SKEW_SECONDS;

  it('CH-J5 an expired token is refused; one expired within the clock skew is still accepted', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, { claims: { iat: NOW_S - 300, exp: NOW_S - skew - 1 } })));
    expect(reasons(log)[0]?.reason).toBe('expired');
    const lateButTolerated = await token(es384, { claims: { iat: NOW_S - 300, exp: NOW_S - skew + 1 } });
    await expect(authenticate({ authorization: bearer(lateButTolerated), audience: AUD })).resolves.toMatchObject({
      iss: ISS,
    });
  });

  it('CH-J5 iat in the future beyond the skew is refused; within the skew it is accepted', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, { claims: { iat: NOW_S + skew + 1, exp: NOW_S + 600 } })));
    expect(reasons(log)[0]?.reason).toBe('iat-in-future');
    const slightlyAhead = await token(es384, { claims: { iat: NOW_S + skew - 1 } });
    await expect(authenticate({ authorization: bearer(slightlyAhead), audience: AUD })).resolves.toMatchObject({
      iss: ISS,
    });
  });

  it('CH-J5 nbf in the future beyond the skew is refused; an nbf in the past is honoured (Epic sends nbf)', async () => {
    const { authenticate, log } = authenticator();
    await refused(authenticate, bearer(await token(es384, { claims: { nbf: NOW_S + skew + 1 } })));
    expect(reasons(log)[0]?.reason).toBe('not-yet-valid');
    await expect(
      authenticate({ authorization: bearer(await token(rs384, { claims: { nbf: NOW_S - 1 } })), audience: AUD }),
    ).resolves.toBeDefined();
  });

  it('CH-J9 when a token lives longer than 5 minutes plus the skew (exp ten years after iat), it is refused', async () => {
    const { authenticate, log } = authenticator();
    const tenYears = 10 * 365 * 24 * 3600;
    await refused(authenticate, bearer(await token(es384, { claims: { iat: NOW_S, exp: NOW_S + tenYears } })));
    await refused(authenticate, bearer(await token(es384, { claims: { iat: NOW_S, exp: NOW_S + 300 + skew + 1 } })));
    expect(reasons(log).map((r) => r.reason)).toEqual(['lifetime-too-long', 'lifetime-too-long']);
    const longest = await token(es384, { claims: { iat: NOW_S, exp: NOW_S + 300 + skew } });
    await expect(authenticate({ authorization: bearer(longest), audience: AUD })).resolves.toMatchObject({ iss: ISS });
  });

  it('CH-J9 when the longest lifetime is configured, it is the limit (plus the skew)', async () => {
    const { authenticate, log } = authenticator({ maxLifetimeSeconds: 60 });
    await refused(authenticate, bearer(await token(es384, { claims: { iat: NOW_S, exp: NOW_S + 60 + skew + 1 } })));
    expect(reasons(log)[0]?.reason).toBe('lifetime-too-long');
    await expect(
      authenticate({ authorization: bearer(await token(es384, { claims: { exp: NOW_S + 60 } })), audience: AUD }),
    ).resolves.toBeDefined();
    expect(() => authenticator({ maxLifetimeSeconds: 0 })).toThrow(/maxLifetimeSeconds/);
  });

  it('CH-J5 a replayed jti is refused within the token lifetime', async () => {
    const { authenticate, log } = authenticator();
    const jwt = await token(es384);
    await authenticate({ authorization: bearer(jwt), audience: AUD });
    await refused(authenticate, bearer(jwt));
    // same jti, freshly signed: still a replay
    const jti = 'fixed-jti';
    await authenticate({ authorization: bearer(await token(es384, { claims: { jti } })), audience: AUD });
    await refused(authenticate, bearer(await token(es384, { claims: { jti } })));
    expect(reasons(log).map((r) => r.reason)).toEqual(['replayed', 'replayed']);
  });

  it('CH-J5 the same jti from two different issuers is not a replay', async () => {
    const { authenticate } = authenticator();
    const jti = 'shared-jti';
    await authenticate({ authorization: bearer(await token(es384, { claims: { jti } })), audience: AUD });
    await expect(
      authenticate({ authorization: bearer(await token(otherKey, { claims: { jti } }, OTHER_ISS)), audience: AUD }),
    ).resolves.toMatchObject({
      iss: OTHER_ISS,
    });
  });

  it('CH-J5 a token refused for another reason does not burn its jti', async () => {
    const { authenticate } = authenticator();
    const jti = 'not-burnt';
    await refused(authenticate, bearer(await token(es384, { claims: { jti, aud: 'https://elsewhere.example.org' } })));
    await expect(
      authenticate({ authorization: bearer(await token(es384, { claims: { jti } })), audience: AUD }),
    ).resolves.toMatchObject({ jti });
  });
});

describe('CH-J6 nothing leaks', () => {
  it('CH-J6 every refusal is the same 401 with no validation detail', async () => {
    const { authenticate } = authenticator();
    const attempts = [
      undefined,
      'Basic abc',
      bearer(unsignedToken({ kid: es384.kid, typ: 'JWT' }, defaultClaims(ISS, AUD, NOW_S))),
      bearer(await token(rs256)),
      bearer(await token(es384, { claims: { aud: 'https://elsewhere.example.org' } })),
      bearer(await token(es384, { claims: { exp: NOW_S - 3600 } })),
      bearer(await token(es384, {}, 'https://attacker.example.com')),
    ];
    const bodies = new Set<string>();
    for (const authorization of attempts) {
      const error = await refused(authenticate, authorization);
      bodies.add(JSON.stringify(error.outcome));
    }
    expect(bodies.size).toBe(1);
    const outcome = JSON.parse([...bodies][0] ?? '{}') as { issue: { diagnostics: string; expression?: string[] }[] };
    expect(outcome.issue).toHaveLength(1);
    expect(outcome.issue[0]?.expression).toBeUndefined();
    expect(outcome.issue[0]?.diagnostics).not.toMatch(/alg|aud|exp|iss|kid|signature|jti|token/i);
  });

  it('CH-J6 the log names the reason class and trusted iss, never the token', async () => {
    const { authenticate, log } = authenticator();
    const good = await token(es384);
    const expired = await token(es384, { claims: { exp: NOW_S - 3600 } });
    const untrusted = await token(es384, {}, 'https://attacker.example.com');
    await authenticate({ authorization: bearer(good), audience: AUD });
    await refused(authenticate, bearer(good)); // replay
    await refused(authenticate, bearer(expired));
    await refused(authenticate, bearer(untrusted));

    const text = log.text();
    expect(reasons(log)).toEqual([
      expect.objectContaining({ reason: 'replayed', iss: ISS }),
      expect.objectContaining({ reason: 'expired', iss: ISS }),
      expect.objectContaining({ reason: 'untrusted-iss' }),
    ]);
    for (const jwt of [good, expired, untrusted]) {
      for (const segment of jwt.split('.')) expect(text).not.toContain(segment);
    }
    expect(text).not.toContain('attacker.example.com');
    expect(text).not.toMatch(/Bearer/);
  });
});
