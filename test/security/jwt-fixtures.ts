/**
 * Test fixtures for JWT trust: an EHR (keys + token signer) and a JWKS server on 127.0.0.1 that
 * counts every fetch, so tests can prove what was (not) fetched.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export const loadJose = () => import('jose');
export type Jose = Awaited<ReturnType<typeof loadJose>>;
type KeyPair = Awaited<ReturnType<Jose['generateKeyPair']>>;

export interface JwksServer {
  base: string;
  url(path: string): string;
  /** Serve `jwks` at `path` (replacing what was there: key rotation). */
  serve(path: string, jwks: { keys: object[] }): void;
  /** Fetches of `path` so far (all paths when omitted). */
  hits(path?: string): number;
  close(): Promise<void>;
}

export async function startJwksServer(): Promise<JwksServer> {
  const documents = new Map<string, string>();
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const body = documents.get(path);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    url: (path) => `${base}${path}`,
    serve: (path, jwks) => documents.set(path, JSON.stringify(jwks)),
    hits: (path) => (path ? (hits.get(path) ?? 0) : [...hits.values()].reduce((a, b) => a + b, 0)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

export interface SigningKey {
  alg: string;
  kid: string;
  privateKey: KeyPair['privateKey'];
  publicJwk: Record<string, unknown>;
}

export async function makeKey(jose: Jose, alg: 'ES384' | 'RS384' | 'RS256', kid = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

export interface TokenOptions {
  header?: Record<string, unknown>;
  /** Claims merged over the defaults; a claim set to undefined is removed. */
  claims?: Record<string, unknown>;
}

/** Default claims for a token issued at `nowSeconds` for `aud`, valid five minutes. */
export function defaultClaims(iss: string, aud: string | string[], nowSeconds: number): Record<string, unknown> {
  const lifetimeSeconds = 300;
  return { iss, aud, iat: nowSeconds, exp: nowSeconds + lifetimeSeconds, jti: randomUUID(), sub: 'ehr-client' };
}

export async function signToken(
  jose: Jose,
  key: SigningKey,
  base: Record<string, unknown>,
  options: TokenOptions = {},
): Promise<string> {
  const claims: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(options.claims ?? {})) {
    if (value === undefined) delete claims[name];
    else claims[name] = value;
  }
  const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'JWT', ...options.header };
  for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
  return new jose.SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
}

/** An unsigned (alg none) token, which jose refuses to produce. */
export function unsignedToken(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${b64({ ...header, alg: 'none' })}.${b64(claims)}.`;
}

/** A pino destination that keeps every line in memory. */
export function memoryLog(): { lines: string[]; destination: { write(line: string): void }; text(): string } {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) }, text: () => lines.join('') };
}
