import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { createDemo } from '../../src/demo';

const FIXTURES = path.join(__dirname, 'fixtures', 'examples');

async function pageConfig(timeZone?: string) {
  const demo = await createDemo({ examplesDir: FIXTURES, ...(timeZone ? { timeZone } : {}) });
  const app = express();
  app.use(demo.router);
  const res = await request(app).get('/demo/api/config');
  expect(res.status).toBe(200);
  return res.body as { timeZone: string; fhirPath: string };
}

describe("the sandbox page's configuration", () => {
  it('when a time zone is configured (CDS_TIME_ZONE), it tells the page that zone', async () => {
    await expect(pageConfig('America/New_York')).resolves.toMatchObject({
      timeZone: 'America/New_York',
      fhirPath: '/fhir',
    });
  });

  it('when no time zone is configured, it tells the page UTC', async () => {
    await expect(pageConfig()).resolves.toMatchObject({ timeZone: 'UTC' });
  });
});
