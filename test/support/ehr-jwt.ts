/**
 * A test EHR that signs CDS Hooks JWTs (ES384), and an authenticator that trusts it. The EHR's JWK Set
 * is handed to the authenticator through its fetch hook: no network.
 */
import { randomUUID } from 'node:crypto';
import { createAuthenticator, type Authenticate } from '../../src/security/jwt';
import { createLogger, type Logger } from '../../src/log';

const EHR_ISS = 'https://ehr.example.org';
const JWKS_URI = 'https://ehr.example.org/.well-known/jwks.json';
const LIFETIME_SECONDS = 300;

export interface TestEhr {
  authenticate: Authenticate;
  /** A fresh signed token for the exact URL called. */
  token(aud: string): Promise<string>;
}

export async function testEhr(logger?: Logger): Promise<TestEhr> {
  const jose = await import('jose');
  const kid = randomUUID();
  const { privateKey, publicKey } = await jose.generateKeyPair('ES384', { extractable: true });
  const jwks = { keys: [{ ...(await jose.exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' }] };
  const authenticate = createAuthenticator({
    trustedIssuers: [{ iss: EHR_ISS, jwks_uri: JWKS_URI }],
    fetchJwks: async () => new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } }),
    logger: logger ?? createLogger({ level: 'silent' }),
  });
  return {
    authenticate,
    token: (aud) => {
      const now = Math.floor(Date.now() / 1000);
      return new jose.SignJWT({
        iss: EHR_ISS,
        aud,
        iat: now,
        exp: now + LIFETIME_SECONDS,
        jti: randomUUID(),
        sub: 'ehr-client',
      })
        .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
        .sign(privateKey);
    },
  };
}
