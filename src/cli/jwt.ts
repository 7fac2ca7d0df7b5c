/**
 * The EHR's signing key, as the CDS Hooks Sandbox does it: an ES384 key pair, its public JWK Set served
 * on a local port, and one short-lived JWT per call (iss, aud = the exact URL called, exp, iat, jti;
 * header alg ES384, kid, typ JWT, jku → the JWK Set). The key is kept in a file so that the issuer the
 * service is configured with stays valid from one run to the next.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };

const loadJose = () => import('jose');

const ALG = 'ES384';
const JWKS_PATH = '/.well-known/jwks.json';
export const DEFAULT_JWKS_PORT = 3099;
/** Lifetime of a signed call, as the CDS Hooks Sandbox uses (seconds). */
export const TOKEN_LIFETIME_SECONDS = 300;

export const defaultKeyFile = (): string => path.join(os.homedir(), '.config', 'ketamine-cds', 'ehr-es384.jwk.json');

export interface EhrKey {
  privateJwk: JWK;
  publicJwk: JWK;
  kid: string;
}

async function fromPrivateJwk(privateJwk: JWK): Promise<EhrKey> {
  const { calculateJwkThumbprint } = await loadJose();
  const { d: _d, ...publicPart } = privateJwk;
  const kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicPart));
  const publicJwk: JWK = {
    kty: publicPart.kty,
    crv: publicPart.crv,
    x: publicPart.x,
    y: publicPart.y,
    kid,
    alg: ALG,
    use: 'sig',
  };
  return { privateJwk: { ...privateJwk, kid, alg: ALG }, publicJwk, kid };
}

export async function generateEhrKey(): Promise<EhrKey> {
  const { generateKeyPair, exportJWK } = await loadJose();
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return fromPrivateJwk(await exportJWK(privateKey));
}

/** The key in `file`, created (mode 0600) when absent. Returns whether it was created. */
export async function loadOrCreateKey(file: string): Promise<{ key: EhrKey; created: boolean }> {
  if (existsSync(file)) {
    const jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-384' || !jwk.d)
      throw new Error(`${file} does not hold a private ES384 (P-384) JWK`);
    return { key: await fromPrivateJwk(jwk), created: false };
  }
  const key = await generateEhrKey();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(key.privateJwk, null, 2)}\n`, { mode: 0o600 });
  return { key, created: true };
}

export interface IssuerUrls {
  iss: string;
  jwksUri: string;
}

/** The issuer identity of a JWK Set served on `host:port`. */
export function issuerUrls(port: number, host = '127.0.0.1'): IssuerUrls {
  const iss = `http://${host}:${port}`;
  return { iss, jwksUri: `${iss}${JWKS_PATH}` };
}

/** The CDS_TRUSTED_ISSUERS value the service needs to trust this EHR. */
export function trustedIssuersValue(urls: IssuerUrls): string {
  return JSON.stringify([{ iss: urls.iss, jwks_uri: urls.jwksUri, jku: [urls.jwksUri] }]);
}

export interface JwksServer extends IssuerUrls {
  port: number;
  close(): Promise<void>;
}

/** Serve the public JWK Set at {iss}/.well-known/jwks.json (port 0 picks a free port). */
export function serveJwks(key: EhrKey, port: number, host = '127.0.0.1'): Promise<JwksServer> {
  const body = JSON.stringify({ keys: [key.publicJwk] });
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === JWKS_PATH) {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'max-age=300' });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`Port ${port} is in use: choose another with --jwks-port`) : err),
    );
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve({
        ...issuerUrls(actual, host),
        port: actual,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** One signed call: aud is the exact URL called. */
export async function signCall(
  key: EhrKey,
  urls: IssuerUrls,
  audience: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<string> {
  const { SignJWT, importJWK } = await loadJose();
  const privateKey = await importJWK(key.privateJwk, ALG);
  return new SignJWT({})
    .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT', jku: urls.jwksUri })
    .setIssuer(urls.iss)
    .setAudience(audience)
    .setIssuedAt(nowSeconds)
    .setExpirationTime(nowSeconds + TOKEN_LIFETIME_SECONDS)
    .setJti(randomUUID())
    .sign(privateKey);
}
