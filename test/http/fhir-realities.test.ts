/**
 * The audit of the fallback path (issue 9, item 4), through HTTP with the real modules: case 5 (running at
 * 0.35 mg/kg/h, the maximum tolerated rate) on the embedded FHIR server, reached directly or behind a proxy
 * that caps `_count` to 3 and drops the `next` links. A patient running ketamine never gets a start card
 * from a truncated key, and a prefetch that misses the patient's Medication is completed from the server.
 */
import path from 'node:path';
import type { Application } from 'express';
import express, { type RequestHandler } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, FhirResource } from 'fhir/r4';
import request from 'supertest';
import { createMemoryFhir, type MemoryFhir } from '../../src/fhir/memory-server'; // first: WebSocket shim
import { fillPrefetch } from '../../src/cli/ehr';
import { asTransaction, readBundle, readManifest } from '../../src/cli/examples';
import { createEvaluator, PLAN_DEFINITION_URL } from '../../src/cql';
import { closeFhirConnections } from '../../src/fhir/fetch-json';
import { createApp } from '../../src/http/app';
import { createLogger } from '../../src/log';
import { createMetrics } from '../../src/ops/metrics';
import { STEPS } from '../../src/service/steps';
import { openStore, type Store } from '../../src/store';
import { DEFINITIONS, DOCS_URL, PARAMS, PATIENT_VIEW, PUBLIC_BASE, testUuid } from '../support/service';

jest.setTimeout(60_000);

const EXAMPLES = path.resolve(__dirname, '../../fhir-resources/examples');
const CASE5 = readManifest(EXAMPLES).find((e) => e.patientId === 'case5-patient');
/** Case 5 held at the maximum tolerated rate (0.35 mg/kg/h): its scenario moment "hold". */
const NOW = new Date(CASE5?.scenarioTimes?.find((t) => t.expectedRuleId === 'T7')?.at ?? 'missing');
const CONTEXT = { userId: 'Practitioner/example', patientId: 'case5-patient', encounterId: 'case5-encounter' };
const TEMPLATES = DEFINITIONS.get(PATIENT_VIEW)?.prefetch ?? {};

const evaluator = createEvaluator();
let fhir: MemoryFhir;
let store: Store;
const servers: Server[] = [];

/** The embedded FHIR server behind `before` (a proxy's behaviour), on loopback: its base URL. */
async function front(before: RequestHandler): Promise<string> {
  const app = express();
  app.use('/fhir', before, fhir.router);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
}

/** A proxy that caps `_count` to 3 and drops the `next` links (as some public servers do). */
const capsCountDropsNext: RequestHandler = (req, res, next) => {
  req.url = req.url.replace(/_count=\d+/, '_count=3');
  const send = res.send.bind(res);
  res.send = ((body: unknown) => {
    if (typeof body !== 'string') return send(body);
    const bundle = JSON.parse(body) as Bundle;
    if (bundle.resourceType === 'Bundle') bundle.link = bundle.link?.filter((l) => l.relation !== 'next');
    return send(JSON.stringify(bundle));
  }) as typeof res.send;
  next();
};

function service(): { app: Application; metrics: ReturnType<typeof createMetrics> } {
  const metrics = createMetrics({ defaultMetrics: false });
  const app = createApp({
    definitions: DEFINITIONS,
    parameters: PARAMS,
    steps: STEPS,
    evaluator,
    store,
    logger: createLogger({ level: 'silent' }),
    clock: () => NOW,
    uuid: testUuid,
    metrics,
    config: {
      deadlineMs: 30_000,
      fhirServerAllowlist: [], // loopback only
      fhirTimeoutMs: 20_000,
      fhirMaxPages: 5,
      docsUrl: DOCS_URL,
      planDefinitionUrl: PLAN_DEFINITION_URL,
    },
    http: { publicBaseUrl: PUBLIC_BASE, requestLimitBytes: 8 * 1024 * 1024, corsOrigins: ['*'] },
  });
  return { app, metrics };
}

const body = (extra: Record<string, unknown>) => ({
  hook: 'patient-view',
  hookInstance: '5a1f1f0e-8b7e-4a53-9a43-6f3c2a5b9d01',
  context: CONTEXT,
  ...extra,
});
const call = (app: Application, payload: object) => request(app).post(`/cds-services/${PATIENT_VIEW}`).send(payload);
const ruleOf = (card: { extension?: Record<string, { ruleId?: string }> }) =>
  card.extension?.['ketamine-protocol']?.ruleId;
/** The cards without what differs between two calls by design (uuids). */
const comparable = (cards: Array<Record<string, unknown>>) =>
  JSON.parse(JSON.stringify(cards).replace(/"uuid":"[^"]*"/g, '"uuid":"-"'));

async function metric(app: Application, name: string, labels: Record<string, string>): Promise<number> {
  const text = (await request(app).get('/metrics')).text;
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

beforeAll(async () => {
  expect(CASE5).toBeDefined();
  expect(Number.isNaN(NOW.getTime())).toBe(false);
  fhir = await createMemoryFhir({ recordRequests: true });
  await fhir.load(asTransaction(readBundle(EXAMPLES, CASE5?.file ?? '')));
});
beforeEach(async () => {
  store = await openStore(':memory:');
  fhir.requests.length = 0;
});
afterEach(async () => {
  store.close();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  closeFhirConnections();
});

describe('case 5 running at 0.35 mg/kg/h, through a FHIR server that caps _count and drops next links', () => {
  it('T7 read directly from the embedded FHIR server (no prefetch), the running infusion is held at the maximum tolerated rate', async () => {
    const { app } = service();
    const res = await call(app, body({ fhirServer: await front((_req, _res, next) => next()) }));
    expect(res.status).toBe(200);
    expect(res.body.cards.map(ruleOf)).toEqual(['T7']);
  });

  it('CH-P4 S3 never: behind a proxy capping _count to 3 without next links, the truncated key fails the call with a 412 naming it and how much came, counted as incomplete', async () => {
    const { app } = service();
    const res = await call(app, body({ fhirServer: await front(capsCountDropsNext) }));
    expect(res.status).toBe(412);
    expect(res.body.resourceType).toBe('OperationOutcome');
    const diagnostics: string = res.body.issue[0].diagnostics;
    expect(diagnostics).toMatch(
      /^Prefetch key "\w+" \(\w+\) missing and could not be fetched: the server returned 3 of \d+ results and no next page$/,
    );
    const key = /"(\w+)"/.exec(diagnostics)?.[1] ?? '';
    expect(res.body.issue[0].expression).toEqual([`prefetch.${key}`]);
    expect(await metric(app, 'ketamine_cds_fhir_fetch_failures_total', { kind: 'incomplete' })).toBe(1);
  });
});

describe("case 5 with a prefetch whose medications key misses the patient's Medication", () => {
  const direct = () => front((_req, _res, next) => next());

  it('CH-P3 T7 the service fetches the referenced Medication from the fhirServer, and the card is the one the full prefetch gives', async () => {
    const base = await direct();
    const full = await fillPrefetch(TEMPLATES, base, CONTEXT);
    const medications = full['medications'] as Bundle;
    expect(medications.entry?.map((e) => e.resource?.id)).toEqual(['case5-medication']);
    const { app } = service();
    const expected = await call(app, body({ prefetch: full }));
    expect(expected.status).toBe(200);
    expect(expected.body.cards.map(ruleOf)).toEqual(['T7']);

    fhir.requests.length = 0;
    const lacking: Record<string, FhirResource | null> = {
      ...full,
      medications: { resourceType: 'Bundle', type: 'searchset', total: 0, entry: [] },
    };
    const res = await call(app, body({ prefetch: lacking, fhirServer: base }));
    expect(res.status).toBe(200);
    expect(comparable(res.body.cards)).toEqual(comparable(expected.body.cards));
    // one request, for the referenced Medication only
    expect(fhir.requests.map((r) => r.url)).toEqual(['/Medication?_id=case5-medication&_count=1']);
  });

  it('when the fhirServer cannot give it, the call goes on (the reference stays unresolved) and the failure is counted', async () => {
    const base = await direct();
    const full = await fillPrefetch(TEMPLATES, base, CONTEXT);
    const refusing = await front((req, res, next) => {
      if (req.path === '/Medication') {
        res.status(503).json({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient' }] });
        return;
      }
      next();
    });
    const { app } = service();
    const res = await call(app, body({ prefetch: { ...full, medications: null }, fhirServer: refusing }));
    expect(res.status).toBe(200);
    expect(await metric(app, 'ketamine_cds_fhir_fetch_failures_total', { kind: 'http-503' })).toBe(1);
    // …and the card says so: a medication may go unrecognised.
    const details = (res.body.cards as Array<{ detail?: string }>).map((c) => c.detail ?? '').join('\n');
    expect(details).toContain('The Medication resources the record names could not be fetched from the FHIR server');
  });
});
