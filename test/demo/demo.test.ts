import path from 'node:path';
import express from 'express';
import request from 'supertest';
import type { Bundle, Encounter } from 'fhir/r4';
import { createDemo, demoEnabled, demoFhirServerUrls, type Demo } from '../../src/demo';
import { readBundle, readManifest, type ExampleEntry } from '../../src/cli/examples';
import { examplesDir } from '../../src/config/paths';
import { loadTerminology } from '../../src/terminology';

const FIXTURES = path.join(__dirname, 'fixtures', 'examples');

describe('the embedded demo', () => {
  let demo: Demo;
  let app: express.Express;

  beforeAll(async () => {
    demo = await createDemo({ examplesDir: FIXTURES });
    app = express();
    app.use(demo.router);
  });

  it('serves a FHIR server at /fhir with a real CapabilityStatement at /fhir/metadata', async () => {
    const res = await request(app).get('/fhir/metadata');
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect(res.body.fhirVersion).toBe('4.0.1');
  });

  it('seeds the FHIR server with every example bundle at start', async () => {
    for (const entry of readManifest(FIXTURES)) {
      const patient = await request(app).get(`/fhir/Patient/${entry.patientId}`);
      expect(patient.status).toBe(200);
      const observations = await request(app).get(`/fhir/Observation?patient=${entry.patientId}`);
      expect((observations.body as Bundle).entry?.length).toBeGreaterThan(0);
    }
  });

  it('serves the sandbox page at / with a Content-Security-Policy that forbids inline script', async () => {
    const res = await request(app).get('/');
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/html');
    expect(res.text).toContain('Ketamine protocol sandbox');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it('serves Chart.js, marked and DOMPurify from node_modules, and nothing else from there', async () => {
    for (const file of ['chart.umd.min.js', 'marked.umd.js', 'purify.min.js']) {
      const res = await request(app).get(`/vendor/${file}`);
      expect(res.status).toBe(200);
      expect(res.type).toBe('application/javascript');
      expect(res.text.length).toBeGreaterThan(1000);
    }
    expect((await request(app).get('/vendor/..%2Fpackage.json')).status).toBe(404);
    expect((await request(app).get('/vendor/express')).status).toBe(404);
  });

  it('tells the page the examples with their patient ids and scenario times', async () => {
    const res = await request(app).get('/demo/api/examples');
    expect(res.status).toBe(200);
    expect(res.body[0]).toMatchObject({ patientId: 'fixture-start', scenarioTimes: [{ expectedRuleId: 'S3' }] });
    const params = await request(app).get('/demo/api/parameters');
    expect(params.body.values.startRate).toBeGreaterThan(0);
    expect(typeof params.body.values.protocolVersion).toBe('string');
  });

  it("when the page starts, it gets the codes it reads and charts from the service's value sets (it holds none)", async () => {
    const res = await request(app).get('/demo/api/value-sets');
    expect(res.status).toBe(200);
    const terminology = loadTerminology();
    expect(Object.keys(res.body).sort()).toEqual([...terminology.valueSets.keys()].sort());
    expect(res.body['pain-score'].map((c: { code: string }) => c.code)).toEqual(terminology.codes('pain-score'));
    expect(res.body['inpatient-encounter-class'][0]).toEqual(
      expect.objectContaining({ system: expect.any(String), code: expect.any(String) }),
    );
  });

  it('resets the FHIR server to the examples: charted additions disappear, seeded data stays', async () => {
    const created = await request(app)
      .post('/fhir/Observation')
      .set('Content-Type', 'application/fhir+json')
      .send(
        JSON.stringify({
          resourceType: 'Observation',
          status: 'final',
          code: { text: 'extra' },
          subject: { reference: 'Patient/fixture-start' },
        }),
      );
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await request(app).get(`/fhir/Observation/${id}`)).status).toBe(200);
    const reset = await request(app).post('/demo/api/reset');
    expect(reset.body).toEqual({ reset: true, patients: ['fixture-start'] });
    expect((await request(app).get(`/fhir/Observation/${id}`)).status).toBe(404);
    expect((await request(app).get('/fhir/Patient/fixture-start')).status).toBe(200);
  });
});

describe('the demo seeded with the project examples (fhir-resources/examples)', () => {
  it('holds every example patient of the manifest, with its encounter', async () => {
    const manifest = readManifest(examplesDir());
    expect(manifest.length).toBeGreaterThan(0);
    const demo = await createDemo();
    const app = express();
    app.use(demo.router);
    for (const entry of manifest) {
      const patient = await request(app).get(`/fhir/Patient/${entry.patientId}`);
      expect([entry.file, patient.status]).toEqual([entry.file, 200]);
      if (entry.encounterId) expect((await request(app).get(`/fhir/Encounter/${entry.encounterId}`)).status).toBe(200);
    }
  });
});

describe('the demo seeds each example live at start-up (no scenario clock needed)', () => {
  const NOW = Date.parse('2026-12-03T10:07:41Z');
  const minute = (ms: number) => Math.floor(ms / 60_000) * 60_000;

  it('when it starts, each case is at its titration moment now, its data and page times moved together', async () => {
    const demo = await createDemo({ now: () => NOW });
    const app = express();
    app.use(demo.router);
    const served = (await request(app).get('/demo/api/examples')).body as ExampleEntry[];
    const original = readManifest(examplesDir());
    for (const entry of served.filter((e) => e.kind === 'case-series')) {
      const titration = entry.scenarioTimes?.find((t) => t.expectedRuleId === 'T8' || t.expectedRuleId === 'T1');
      if (!titration) continue; // (a case without one is at its first scenario time)
      expect([entry.patientId, Date.parse(titration.at)]).toEqual([entry.patientId, minute(NOW)]);
      // the FHIR data moved by the same offset as the page's times
      const before = original.find((e) => e.file === entry.file);
      const offset = Date.parse(String(entry.admission)) - Date.parse(String(before?.admission));
      const encounter = (await request(app).get(`/fhir/Encounter/${entry.encounterId}`)).body as Encounter;
      const source = readBundle(examplesDir(), entry.file).entry?.find((e) => e.resource?.id === entry.encounterId)
        ?.resource as Encounter;
      expect(Date.parse(encounter.period?.start ?? '') - Date.parse(source.period?.start ?? '')).toBe(offset);
    }
  });

  it('when reset later, the cases are moved again so that they are live at the new now', async () => {
    let now = NOW;
    const demo = await createDemo({ now: () => now, at: 'taper' });
    const app = express();
    app.use(demo.router);
    now += 5 * 3600_000;
    await request(app).post('/demo/api/reset').expect(200);
    const served = (await request(app).get('/demo/api/examples')).body as ExampleEntry[];
    const case1 = served.find((e) => e.patientId === 'case1-patient');
    expect(Date.parse(case1?.scenarioTimes?.find((t) => t.expectedRuleId === 'T4')?.at ?? '')).toBe(minute(now));
  });
});

describe('patient searches on the demo FHIR server', () => {
  it("answers Observation?patient=<id> as sent (no rewriting in front) with that patient's resources only", async () => {
    const demo = await createDemo({ examplesDir: FIXTURES });
    const app = express();
    app.use(demo.router);
    const res = await request(app).get(
      '/fhir/Observation?patient=fixture-start&code=http://loinc.org|72514-3,http://loinc.org|29463-7',
    );
    expect(res.status).toBe(200);
    const bundle = res.body as Bundle;
    expect(bundle.link?.find((l) => l.relation === 'self')?.url).toContain('patient=fixture-start');
    expect((bundle.entry ?? []).map((e) => e.resource?.id).sort()).toEqual([
      'fixture-start-pain-0',
      'fixture-start-weight',
    ]);
  });
});

describe('demo switches', () => {
  it('runs unless DEMO is off', () => {
    expect(demoEnabled({})).toBe(true);
    expect(demoEnabled({ DEMO: 'on' })).toBe(true);
    expect(demoEnabled({ DEMO: 'off' })).toBe(false);
    expect(demoEnabled({ DEMO: 'OFF' })).toBe(false);
    expect(demoEnabled({ DEMO: 'false' })).toBe(false);
  });

  it('names the FHIR base URLs the page sends as fhirServer, for the allowlist', () => {
    expect(demoFhirServerUrls(3000)).toEqual(['http://localhost:3000/fhir', 'http://127.0.0.1:3000/fhir']);
  });
});
