/**
 * The authenticator wired into a tiny express app the way the HTTP adapter does it: a middleware
 * per request, the audience from the configured public base URL, the one error handler.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { audienceFor, createAuthenticator } from '../../src/security/jwt';
import { toOperationOutcomeError } from '../../src/errors';
import { createLogger } from '../../src/log';
import {
  defaultClaims,
  loadJose,
  makeKey,
  memoryLog,
  signToken,
  startJwksServer,
  type Jose,
  type JwksServer,
  type SigningKey,
} from './jwt-fixtures';

const PUBLIC_BASE = 'https://cds.example.org/';
const ISS = 'https://ehr.example.org';
const nowSeconds = () => Math.floor(Date.now() / 1000);

let jose: Jose;
let server: JwksServer;
let key: SigningKey;
let app: express.Express;
const log = memoryLog();

beforeAll(async () => {
  jose = await loadJose();
  server = await startJwksServer();
  key = await makeKey(jose, 'ES384');
  server.serve('/jwks', { keys: [key.publicJwk] });
  const authenticate = createAuthenticator({
    trustedIssuers: [{ iss: ISS, jwks_uri: server.url('/jwks') }],
    logger: createLogger({ destination: log.destination }),
  });
  app = express();
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    res.locals.client = await authenticate({
      authorization: req.get('authorization'),
      audience: audienceFor(PUBLIC_BASE, req.originalUrl),
    });
    next();
  });
  app.get('/cds-services', (_req, res) => {
    res.json({ services: [], tenant: (res.locals.client as { tenant?: string }).tenant });
  });
  app.post('/cds-services/:id/feedback', (_req, res) => {
    res.json({});
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const error = toOperationOutcomeError(err);
    res.status(error.status).json(error.outcome);
  });
});

afterAll(async () => {
  await server.close();
});

const tokenFor = (path: string, claims: Record<string, unknown> = {}) =>
  signToken(jose, key, defaultClaims(ISS, audienceFor(PUBLIC_BASE, path), nowSeconds()), { claims });

describe('the authenticator behind express', () => {
  it('CH-J1 discovery without a token is a 401 OperationOutcome', async () => {
    const res = await request(app).get('/cds-services');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'login', diagnostics: 'Authentication required' }],
    });
  });

  it('CH-J1 CH-J3 a token for the exact URL called is let through', async () => {
    const res = await request(app)
      .get('/cds-services')
      .set('Authorization', `Bearer ${await tokenFor('/cds-services', { tenant: 'hospital-a' })}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ services: [], tenant: 'hospital-a' });
  });

  it('CH-J3 a token minted for discovery does not open the feedback endpoint', async () => {
    const res = await request(app)
      .post('/cds-services/ketamine-order-select/feedback')
      .set('Authorization', `Bearer ${await tokenFor('/cds-services')}`)
      .send({ feedback: [] });
    expect(res.status).toBe(401);
    const ok = await request(app)
      .post('/cds-services/ketamine-order-select/feedback')
      .set('Authorization', `Bearer ${await tokenFor('/cds-services/ketamine-order-select/feedback')}`)
      .send({ feedback: [] });
    expect(ok.status).toBe(200);
  });

  it('CH-J6 the 401 body is identical whatever the reason, and the token is not logged', async () => {
    const expired = await tokenFor('/cds-services', { exp: nowSeconds() - 3600 });
    const a = await request(app).get('/cds-services').set('Authorization', `Bearer ${expired}`);
    const b = await request(app).get('/cds-services').set('Authorization', 'Basic Zm9vOmJhcg==');
    expect(a.status).toBe(401);
    expect(a.text).toBe(b.text);
    expect(log.text()).toContain('"reason":"expired"');
    expect(log.text()).not.toContain(expired.split('.')[2]);
  });

  it('the audience is the public base URL plus the path, without the query', () => {
    expect(audienceFor('https://cds.example.org/', '/cds-services?x=1')).toBe('https://cds.example.org/cds-services');
    expect(audienceFor('https://h.example/base', '/cds-services/a')).toBe('https://h.example/base/cds-services/a');
  });
});
