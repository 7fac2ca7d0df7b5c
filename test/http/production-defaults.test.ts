/**
 * Production-safe defaults (issue 7): the service listens on loopback unless HOST says otherwise, the demo
 * (page and writable FHIR server) is off with NODE_ENV=production unless DEMO=on, and the demo FHIR server
 * answers loopback clients only unless DEMO_FHIR_PUBLIC=on.
 */
import type { Request, Response } from 'express';
import request from 'supertest';
import { demoEnabled } from '../../src/demo';
import { OperationOutcomeError } from '../../src/errors';
import { isLoopbackAddress, loopbackOnly } from '../../src/http/loopback';
import { compose, start } from '../../src/main';

const ENV = {
  PORT: '0',
  FEEDBACK_DB: ':memory:',
  LOG_LEVEL: 'silent',
  CDS_PUBLIC_BASE_URL: 'https://cds.example.org',
};

describe('where the service listens', () => {
  it('when HOST is unset and the demo is on (as `npm start` runs), it listens on loopback only and the demo FHIR server answers there', async () => {
    const running = await start(ENV);
    try {
      expect(running.demo).toBe(true);
      expect(running.server.address()).toMatchObject({ address: '127.0.0.1' });
      const port = (running.server.address() as { port: number }).port;
      expect((await fetch(`http://127.0.0.1:${port}/fhir/metadata`)).status).toBe(200);
    } finally {
      await running.close();
    }
  });
});

describe('the demo with NODE_ENV=production', () => {
  it('when NODE_ENV=production and DEMO is unset, there is no /fhir and no page', async () => {
    expect(demoEnabled({ NODE_ENV: 'production' })).toBe(false);
    const composed = await compose({ ...ENV, NODE_ENV: 'production' });
    try {
      expect(composed.demo).toBe(false);
      expect((await request(composed.app).get('/fhir/metadata')).status).toBe(404);
      expect((await request(composed.app).get('/')).status).toBe(404);
      expect((await request(composed.app).get('/healthz')).status).toBe(200);
    } finally {
      await composed.close();
    }
  });

  it('when NODE_ENV=production and DEMO=on, the demo runs (an explicit choice)', () => {
    expect(demoEnabled({ NODE_ENV: 'production', DEMO: 'on' })).toBe(true);
    expect(demoEnabled({ NODE_ENV: 'development' })).toBe(true);
    expect(demoEnabled({ DEMO: 'off' })).toBe(false);
  });
});

describe('the demo FHIR server stays on this machine', () => {
  const call = (remoteAddress: string, localAddress = '127.0.0.1') => {
    const req = { socket: { remoteAddress, localAddress } } as unknown as Request;
    let passed: unknown = 'not called';
    loopbackOnly('The demo FHIR server')(req, {} as Response, (err?: unknown) => {
      passed = err;
    });
    return passed;
  };

  it('when a request comes over loopback (IPv4, IPv6, IPv4-mapped), it passes', () => {
    expect(call('127.0.0.1')).toBeUndefined();
    expect(call('::1', '::1')).toBeUndefined();
    expect(call('::ffff:127.0.0.1', '::ffff:127.0.0.1')).toBeUndefined();
  });

  it('when a request comes from another machine or over another interface, it is refused with a 403 OperationOutcome', () => {
    for (const [remote, local] of [
      ['10.0.0.7', '10.0.0.2'],
      ['127.0.0.1', '192.168.1.5'],
      ['192.168.1.9', '127.0.0.1'],
      ['::ffff:10.0.0.7', '::ffff:10.0.0.2'],
    ] as const) {
      const err = call(remote, local);
      expect(err).toBeInstanceOf(OperationOutcomeError);
      expect((err as OperationOutcomeError).status).toBe(403);
    }
    expect(isLoopbackAddress(undefined)).toBe(false);
    expect(isLoopbackAddress('localhost')).toBe(false); // a name, not an address: never trusted
  });

  it('when HOST is all interfaces, a client reaching the service on a non-loopback address gets no demo FHIR data', async () => {
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    const running = await start({ ...ENV, HOST: '0.0.0.0' });
    try {
      const port = (running.server.address() as { port: number }).port;
      expect((await fetch(`http://127.0.0.1:${port}/fhir/metadata`)).status).toBe(200);
      // Without a non-loopback interface on this machine there is nothing more to try.
      if (external !== undefined) {
        const res = await fetch(`http://${external}:${port}/fhir/Patient`);
        expect(res.status).toBe(403);
        expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
        expect((await fetch(`http://${external}:${port}/demo/api/reset`, { method: 'POST' })).status).toBe(403);
      }
    } finally {
      await running.close();
    }
  });
});
