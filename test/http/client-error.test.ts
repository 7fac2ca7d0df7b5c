import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { createApp } from '../../src/http/app';
import { answerClientErrors } from '../../src/http/client-error';
import { start } from '../../src/main';
import { harness } from '../support/service';

let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer(createApp(harness().deps));
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sends raw bytes and reads the whole answer (the server closes the connection). */
const raw = (bytes: string) =>
  new Promise<{ status: number; headers: string; body: string }>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body });
    });
    socket.end(bytes);
  });

describe('requests node refuses before express', () => {
  it('when the request headers are larger than node accepts, it answers 431 with an OperationOutcome JSON body', async () => {
    const secret = 'SECRET-HEADER-VALUE-';
    const { status, headers, body } = await raw(
      `GET /cds-services HTTP/1.1\r\nHost: localhost\r\nX-Big: ${secret.repeat(5000)}\r\n\r\n`,
    );
    expect(status).toBe(431);
    expect(headers).toMatch(/content-type: application\/fhir\+json/i);
    const outcome = JSON.parse(body) as { resourceType: string; issue: Array<{ code: string; diagnostics: string }> };
    expect(outcome.resourceType).toBe('OperationOutcome');
    expect(outcome.issue[0]?.code).toBe('too-costly');
    expect(body).not.toContain(secret);
  });

  it('when the request is not valid HTTP, it answers 400 with an OperationOutcome JSON body', async () => {
    const { status, body } = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(status).toBe(400);
    expect((JSON.parse(body) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it('when a request is well-formed, it is served as before', async () => {
    const { status } = await raw('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(status).toBe(200);
  });
});

describe('the running service (main.ts)', () => {
  it('when the headers are too large for the service started by `npm start`, it answers 431 with an OperationOutcome', async () => {
    const running = await start({ PORT: '0', DEMO: 'off', FEEDBACK_DB: ':memory:', LOG_LEVEL: 'silent' });
    try {
      const { port: servicePort } = running.server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${servicePort}/cds-services`, {
        headers: { 'x-big': 'x'.repeat(64 * 1024) },
      });
      expect(res.status).toBe(431);
      expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    } finally {
      await running.close();
    }
  });
});
