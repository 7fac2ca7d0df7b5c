/**
 * Hostile and messy charts through HTTP with the real modules (request validation, gather, the record
 * check, CQL, the decision core, the cards, the response schema): every malformed entry and implausible
 * value answers 200 with the item named on the card, or 400 when the request itself is malformed; never
 * 5xx, never a number computed from an unreadable value, never another patient's data on this patient's
 * card (issue 13, contract v1.1).
 *
 * The base chart is the golden T8 scenario (test/fixtures/golden/T8-above-soft-maximum.request.json):
 * ketamine running at 0.5 mg/kg/h since 22:30, weight 80 kg, pain 7/10, normal vitals.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import fc from 'fast-check';
import request from 'supertest';
import { createEvaluator, PLAN_DEFINITION_URL } from '../../src/cql';
import { createApp } from '../../src/http/app';
import { STEPS } from '../../src/service/steps';
import type { AuditRow } from '../../src/store';
import { memoryLogger } from '../support/logs';
import { DEFINITIONS, DOCS_URL, ORDER_SELECT, PARAMS, PATIENT_VIEW, PUBLIC_BASE, testUuid } from '../support/service';

const BASE_FILE = path.resolve(__dirname, '../fixtures/golden/T8-above-soft-maximum.request.json');
const RAW = JSON.parse(readFileSync(BASE_FILE, 'utf8')) as Record<string, any>;
const NOW = new Date(RAW['x-golden-now']);
const PATIENT_ID: string = RAW.context.patientId;
/** The base chart's own numbers, as its card shows them. */
const OWN_WEIGHT_KG = 80;
const OWN_RATE = 0.5;

type Body = Record<string, any>;
/**
 * What a card must never print: a number computed from an unreadable value. (A charted value may be
 * quoted when the card says it was taken as a charting error: "1e+308 mg/kg/h is above 10 mg/kg/h …".)
 */
const NOT_A_NUMBER = /Infinity|NaN|undefined|\b0 kg\b/;
/** A fresh copy of the base request (without the x-golden-* fields). */
function base(): Body {
  const { 'x-golden-now': _n, 'x-golden-story': _s, ...body } = structuredClone(RAW);
  return body;
}
const entries = (body: Body, key: string): any[] => body.prefetch[key].entry as any[];
const firstResource = (body: Body, key: string): any => entries(body, key)[0].resource;
/** The administration running now (the newest one of the base chart). */
const currentAdministration = (body: Body): any =>
  entries(body, 'medicationAdministrations').find((e: any) => e.resource.effectivePeriod.end === undefined).resource;

const evaluator = createEvaluator();
let audits: AuditRow[] = [];
const log = memoryLogger('warn');
const app = createApp({
  definitions: DEFINITIONS,
  parameters: PARAMS,
  steps: STEPS,
  evaluator,
  store: {
    recordAudit: (row) => void audits.push(row),
    recordFeedback: (_id, items) => ({ stored: items.length, duplicates: 0 }),
  },
  logger: log.logger,
  clock: () => new Date(NOW.getTime()),
  uuid: testUuid,
  config: {
    deadlineMs: 15_000,
    fhirServerAllowlist: [],
    fhirTimeoutMs: 10_000,
    fhirMaxPages: 3,
    docsUrl: DOCS_URL,
    planDefinitionUrl: PLAN_DEFINITION_URL,
  },
  http: { publicBaseUrl: PUBLIC_BASE, requestLimitBytes: 2 * 1024 * 1024, corsOrigins: ['*'] },
});

beforeEach(() => {
  audits = [];
});

/** POST a body (an object, or raw JSON text so that 1e400 parses as Infinity). */
async function post(body: Body | string, service = PATIENT_VIEW) {
  const res = await request(app)
    .post(`/cds-services/${service}`)
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));
  expect(res.status).toBeLessThan(500);
  return res;
}

interface CardView {
  summary: string;
  detail: string;
  text: string;
  ext: Record<string, any>;
}
/** The single protocol card of a 200 answer, its text, and its extension. */
async function card(body: Body | string, service = PATIENT_VIEW): Promise<CardView> {
  const res = await post(body, service);
  expect(res.status).toBe(200);
  expect(res.body.cards.length).toBeGreaterThanOrEqual(1);
  const c = res.body.cards[0];
  const text = `${c.summary}\n${c.detail ?? ''}`;
  // Never a number computed from an unreadable value.
  expect(text).not.toMatch(NOT_A_NUMBER);
  return { summary: c.summary, detail: c.detail ?? '', text, ext: c.extension['ketamine-protocol'] };
}

describe('the base chart', () => {
  it('T8 the clean golden chart suggests the next step from 0.5 mg/kg/h at 80 kg, and sets nothing aside', async () => {
    const c = await card(base());
    expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', currentRate: OWN_RATE });
    expect(c.detail).toContain(`${OWN_WEIGHT_KG} kg`);
    expect(c.detail).not.toContain('Set aside');
    expect(audits[0]?.setAside).toBeUndefined();
  });
});

describe('malformed prefetch entries answer 200, named on the card as set aside', () => {
  const shapes: Array<[string, (body: Body) => void]> = [
    ['a null bundle entry', (b) => entries(b, 'painScores').push(null)],
    ['an entry without a resource', (b) => entries(b, 'vitals').push({ fullUrl: 'https://ehr.example.org/fhir/x/1' })],
    ['a resource without resourceType', (b) => entries(b, 'weights').push({ resource: { id: 'no-type', value: 3 } })],
    ['a string where an entry is expected', (b) => entries(b, 'conditions').push('Condition/1')],
    ['a string where a resource is expected', (b) => entries(b, 'tests').push({ resource: 'Observation/ekg' })],
    ['a number as resourceType', (b) => entries(b, 'consents').push({ resource: { resourceType: 42 } })],
    ['an array as an entry', (b) => entries(b, 'encounters').push([])],
  ];

  it.each(shapes)(
    'T8 when the prefetch holds %s, the recommendation stands and the card names the entry set aside',
    async (_label, mutate) => {
      const body = base();
      mutate(body);
      const c = await card(body);
      expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', currentRate: OWN_RATE });
      expect(c.detail).toMatch(/Set aside from the record: 1 unreadable entry \(entry: a null or malformed entry\)/);
      expect(audits[0]?.setAside).toEqual({ otherPatient: 0, unreadable: 1 });
    },
  );

  it('when a Bundle entry list is not an array, or a Bundle holds no entries, the call still answers 200', async () => {
    const body = base();
    body.prefetch.painScores.entry = 'not an array';
    body.prefetch.vitals = { resourceType: 'Bundle', type: 'searchset' };
    const c = await card(body);
    // No pain score and no vitals: the rate cannot be stepped; nothing is invented.
    expect(['T2', 'V1']).toContain(c.ext.ruleId);
    expect(c.ext.recommendedRate).toBeNull();
  });

  it.each([
    ['an object', { a: 1 }],
    ['a number', 7],
    ['a boolean', true],
    ['a string', 'x'],
  ])(
    'V1 when the vitals Bundle entry is %s instead of a list, the answer is 200 and the card names the Bundle set aside',
    async (_label, entry) => {
      const body = base();
      body.prefetch.vitals = { resourceType: 'Bundle', entry };
      const c = await card(body);
      // No vitals could be read: no increase without them (V1), nothing invented.
      expect(c.ext).toMatchObject({ ruleId: 'V1', recommendedRate: null });
      expect(c.detail).toMatch(/Set aside from the record: 1 unreadable entry \(entry: a null or malformed entry\)/);
      expect(audits[0]?.setAside).toEqual({ otherPatient: 0, unreadable: 1 });
    },
  );

  it('T8 when a prefetch Bundle link is an object instead of a list, the entries are read, the answer is 200 and the Bundle is named', async () => {
    const body = base();
    body.prefetch.vitals.link = { relation: 'next', url: 'https://ehr.example.org/fhir/Observation?page=2' };
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', currentRate: OWN_RATE, recommendedRate: 0.6 });
    expect(c.detail).toMatch(/Set aside from the record: 1 unreadable entry \(entry: a null or malformed entry\)/);
  });
});

describe('malformed Bundles from the FHIR server (the fallback) answer 200, named on the card', () => {
  /** A loopback FHIR server answering every search with `bundle` (the app's allowlist is loopback only). */
  let server: http.Server;
  let bundle: unknown;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
      res.end(JSON.stringify(bundle));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  /** The base chart without its vitals, which are fetched from the loopback server. */
  function withoutVitals(): Body {
    const body = base();
    delete body.prefetch.vitals;
    body.fhirServer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
    return body;
  }

  it.each([
    ['an object', { a: 1 }],
    ['a number', 7],
    ['a boolean', false],
  ])(
    'V1 when the fetched vitals Bundle entry is %s instead of a list, the answer is 200 and the card names it',
    async (_label, entry) => {
      bundle = { resourceType: 'Bundle', type: 'searchset', entry };
      const c = await card(withoutVitals());
      expect(c.ext).toMatchObject({ ruleId: 'V1', recommendedRate: null });
      expect(c.detail).toMatch(/Set aside from the record: 1 unreadable entry \(entry: a null or malformed entry\)/);
    },
  );

  it('T8 when the fetched vitals Bundle link is an object, its entries are read and the Bundle is named', async () => {
    const vitals = base().prefetch.vitals;
    bundle = { ...vitals, link: { relation: 'next', url: 'Observation?page=2' } };
    const c = await card(withoutVitals());
    expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', currentRate: OWN_RATE, recommendedRate: 0.6 });
    expect(c.detail).toMatch(/Set aside from the record: 1 unreadable entry \(entry: a null or malformed entry\)/);
  });

  it('T8 when a fetched vitals Bundle holds a null entry, it is named as from the prefetch', async () => {
    const vitals = base().prefetch.vitals;
    bundle = { ...vitals, entry: [...vitals.entry, null] };
    const c = await card(withoutVitals());
    expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', recommendedRate: 0.6 });
    expect(c.detail).toMatch(/Set aside from the record: 1 unreadable entry \(entry: a null or malformed entry\)/);
  });
});

describe('strings and odd shapes where FHIR expects objects answer 200, never 5xx', () => {
  const shapes: Array<[string, (body: Body) => void]> = [
    ['subject as a string', (b) => (firstResource(b, 'weights').subject = `Patient/${PATIENT_ID}`)],
    ['valueQuantity as a string', (b) => (firstResource(b, 'painScores').valueQuantity = '7/10')],
    ['effectivePeriod as a string', (b) => (currentAdministration(b).effectivePeriod = '2026-11-16T22:30:00Z')],
    ['dosage as a string', (b) => (currentAdministration(b).dosage = '0.5 mg/kg/h')],
    ['rateQuantity as a string', (b) => (currentAdministration(b).dosage.rateQuantity = '0.5 mg/kg/h')],
    ['rateQuantity.value as a string', (b) => (currentAdministration(b).dosage.rateQuantity.value = '0.5')],
    ['code as a string', (b) => (firstResource(b, 'weights').code = '29463-7')],
    ['coding as an object', (b) => (firstResource(b, 'weights').code.coding = { code: '29463-7' })],
    ['component as an object', (b) => (firstResource(b, 'vitals').component = { code: 'sbp' })],
    ['status as a number', (b) => (currentAdministration(b).status = 1)],
    ['medicationCodeableConcept as a string', (b) => (currentAdministration(b).medicationCodeableConcept = 'ketamine')],
    ['the Patient gender as an object', (b) => (b.prefetch.patient.gender = { value: 'female' })],
    ['the Encounter class as a string', (b) => (firstResource(b, 'encounters').class = 'IMP')],
    ['the Condition clinicalStatus as a string', (b) => (firstResource(b, 'conditions').clinicalStatus = 'active')],
    [
      'a resource that is an empty object with a type',
      (b) => entries(b, 'painScores').push({ resource: { resourceType: 'Observation' } }),
    ],
  ];

  it.each(shapes)(
    'when a resource has %s, the answer is 200 and any card prints only readable numbers',
    async (_label, mutate) => {
      const body = base();
      mutate(body);
      const res = await post(body);
      expect(res.status).toBe(200);
      for (const c of res.body.cards) {
        expect(`${c.summary}\n${c.detail ?? ''}`).not.toMatch(NOT_A_NUMBER);
        // Whatever could not be read, no increase is built on it beyond the clean chart's own step.
        const ext = c.extension['ketamine-protocol'];
        if (ext.action === 'increase') expect(ext).toMatchObject({ currentRate: OWN_RATE, recommendedRate: 0.6 });
      }
    },
  );

  it('T8 when the Patient birthDate is not a date, the Patient is kept without it: the card names it, never a 412', async () => {
    const body = base();
    body.prefetch.patient.birthDate = 19800401;
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', recommendedRate: 0.6 });
    expect(c.detail).toContain('Set aside from the record: 1 unreadable entry (Patient: a date that does not parse)');
  });
});

describe('fields of the wrong JSON type: the resource is set aside and named, never silently dropped', () => {
  /** An AdverseEvent during the running segment (since 22:30), as the chart builder writes one. */
  const adverseEvent = (over: Record<string, unknown>) => ({
    resourceType: 'AdverseEvent',
    id: 'ae-malformed',
    actuality: 'actual',
    event: { coding: [{ system: 'http://snomed.info/sct', code: '7011001', display: 'Hallucinations' }] },
    subject: { reference: `Patient/${PATIENT_ID}` },
    date: '2026-11-17T01:00:00Z',
    ...over,
  });
  /** The newest resource of the vitals whose id holds `kind` (bp, hr). */
  const newestVital = (body: Body, kind: string): any =>
    entries(body, 'vitals').find((e: any) => e.resource.id.includes(`-${kind}-`)).resource;

  const shapes: Array<[string, string, (body: Body) => void]> = [
    [
      'a hallucination AdverseEvent whose event.coding is an object',
      'AdverseEvent: a field of the wrong type (event.coding)',
      (b) =>
        entries(b, 'adverseEvents').push({
          resource: adverseEvent({
            event: { coding: { system: 'http://snomed.info/sct', code: '7011001', display: 'Hallucinations' } },
          }),
        }),
    ],
    [
      'an AdverseEvent whose suspectEntity (the running administration) is an object',
      'AdverseEvent: a field of the wrong type (suspectEntity)',
      (b) =>
        entries(b, 'adverseEvents').push({
          resource: adverseEvent({
            event: { text: 'Dizziness' },
            suspectEntity: { instance: { reference: `MedicationAdministration/${currentAdministration(b).id}` } },
          }),
        }),
    ],
    [
      'the newest blood-pressure panel whose component is a string',
      'Observation: a field of the wrong type (component)',
      (b) => (newestVital(b, 'bp').component = '130/78'),
    ],
    [
      'the newest heart rate whose valueQuantity is a string',
      'Observation: a field of the wrong type (valueQuantity)',
      (b) => (newestVital(b, 'hr').valueQuantity = '85 /min'),
    ],
  ];

  it.each(shapes)(
    'when the chart holds %s, the answer is 200 and the card names it set aside',
    async (_l, named, mutate) => {
      const body = base();
      mutate(body);
      const c = await card(body);
      expect(c.detail).toContain('Set aside from the record: 1 unreadable entry');
      expect(c.detail).toContain(named);
      expect(audits[0]?.setAside).toEqual({ otherPatient: 0, unreadable: 1 });
    },
  );

  it('D1 when the running administration rateQuantity is an array, it is kept without its rate (never X1) and named', async () => {
    const body = base();
    currentAdministration(body).dosage.rateQuantity = [{ value: 0.5, unit: 'mg/kg/h' }];
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
    expect(c.detail).toContain('Current rate: could not be read');
    expect(c.detail).toContain('MedicationAdministration: a field of the wrong type (dosage.rateQuantity)');
  });
});

describe('implausible values: set aside or unreadable, never printed as a number', () => {
  it('D1 a latest weight of 0.001 kg is unreadable: needs-data, the card says the weight could not be read', async () => {
    const body = base();
    firstResource(body, 'weights').valueQuantity.value = 0.001;
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', recommendedRate: null });
    expect(c.text).toMatch(/Dosing weight: charted but could not be read/);
    expect(c.text).not.toMatch(/mg\/h at|\b0 kg\b/); // no dose computed from it
  });

  it('D1 a latest weight of 1e6 kg is unreadable: needs-data, no dose computed from it', async () => {
    const body = base();
    firstResource(body, 'weights').valueQuantity.value = 1e6;
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', recommendedRate: null });
    expect(c.text).toMatch(/Dosing weight: charted but could not be read/);
    expect(c.text).not.toMatch(/mg\/h at/);
  });

  it('T8 a weight of 0.001 kg charted before the real one is not used: the card doses with 80 kg', async () => {
    const body = base();
    const real = firstResource(body, 'weights');
    entries(body, 'weights').push({
      resource: {
        ...structuredClone(real),
        id: 'weight-typo',
        effectiveDateTime: '2026-11-15T07:40:00Z',
        valueQuantity: { ...real.valueQuantity, value: 0.001 },
      },
    });
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'T8', currentRate: OWN_RATE, recommendedRate: 0.6 });
    expect(c.detail).toContain(`Dosing weight: ${OWN_WEIGHT_KG} kg`);
  });

  it('D1 a current rate of 1e308 mg/kg/h is unreadable: needs-data, the card says the rate could not be read', async () => {
    const body = base();
    currentAdministration(body).dosage.rateQuantity.value = 1e308;
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
    expect(c.detail).toContain('Current rate: could not be read');
    expect(c.detail).not.toMatch(/Calculation|mg\/h at/); // nothing computed from it
  });

  it(`D1 a current rate just above maxPlausibleRate (${PARAMS.maxPlausibleRate} mg/kg/h) is unreadable too`, async () => {
    const body = base();
    currentAdministration(body).dosage.rateQuantity.value = PARAMS.maxPlausibleRate + 1;
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', recommendedRate: null });
  });

  it('T8 an earlier administration at 1e308 mg/kg/h (ended before the current rate started) changes nothing', async () => {
    const body = base();
    const earliest = entries(body, 'medicationAdministrations').at(-1).resource;
    earliest.dosage.rateQuantity.value = 1e308;
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', currentRate: OWN_RATE, recommendedRate: 0.6 });
  });

  it('D1 1e400 in the current rate (raw JSON: Infinity) is unreadable, never X1: the card names the number set aside, no rate is computed', async () => {
    const body = base();
    currentAdministration(body).dosage.rateQuantity.value = 987654321;
    const c = await card(JSON.stringify(body).replace('987654321', '1e400'));
    // It still runs: its rate is unreadable (D1), never "course completed" (X1).
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
    expect(c.detail).toContain('Current rate: could not be read');
    expect(c.detail).toContain('Set aside from the record');
    expect(c.detail).toContain('a number that is not finite');
  });

  it('1e400 in the weight valueQuantity (raw JSON: Infinity) sets the weight aside: no weight, named on the card', async () => {
    const body = base();
    firstResource(body, 'weights').valueQuantity.value = 987654321;
    const c = await card(JSON.stringify(body).replace('987654321', '1e400'));
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', recommendedRate: null });
    expect(c.detail).toMatch(
      /Set aside from the record: 1 unreadable entry \(Observation: a number that is not finite\)/,
    );
    expect(audits[0]?.setAside).toEqual({ otherPatient: 0, unreadable: 1 });
  });

  it('D1 when the latest weight holds 1e400 and an older readable weight is charted, the older one never stands in', async () => {
    const body = base();
    const latest = firstResource(body, 'weights');
    const older = structuredClone(latest);
    older.id = `${latest.id}-older`;
    older.effectiveDateTime = new Date(Date.parse(latest.effectiveDateTime) - 3_600_000).toISOString();
    entries(body, 'weights').push({ resource: older });
    latest.valueQuantity.value = 987654321;
    const c = await card(JSON.stringify(body).replace('987654321', '1e400'));
    expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', recommendedRate: null });
    expect(c.detail).toMatch(/has no readable value/);
    expect(c.detail).toContain('a number that is not finite');
  });

  it('T8 -1e400 in an old pain score (raw JSON) sets that score aside, and the recommendation stands', async () => {
    const body = base();
    entries(body, 'painScores').at(-1).resource.valueQuantity.value = 987654321;
    const c = await card(JSON.stringify(body).replace('987654321', '-1e400'));
    expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', recommendedRate: 0.6 });
    expect(c.detail).toContain('a number that is not finite');
  });
});

describe('unparseable dates are set aside and named', () => {
  const shapes: Array<[string, (body: Body) => unknown]> = [
    [
      'a pain score dated "yesterday"',
      (b) => (entries(b, 'painScores').at(-1).resource.effectiveDateTime = 'yesterday'),
    ],
    [
      'a vital sign dated 2026-13-45',
      (b) => (entries(b, 'vitals').at(-1).resource.effectiveDateTime = '2026-13-45T00:00:00Z'),
    ],
    [
      'an old administration ending "soon"',
      (b) => (entries(b, 'medicationAdministrations').at(-1).resource.effectivePeriod.end = 'soon'),
    ],
    ['the consent dated 0', (b) => (firstResource(b, 'consents').dateTime = 0)],
  ];

  it.each(shapes)(
    'T8 when %s, the resource is set aside, the card says so and the recommendation stands',
    async (_label, mutate) => {
      const body = base();
      mutate(body);
      const c = await card(body);
      expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', currentRate: OWN_RATE, recommendedRate: 0.6 });
      expect(c.detail).toMatch(/Set aside from the record: 1 unreadable entry \(\w+: a date that does not parse\)/);
    },
  );

  it.each([
    ['effectivePeriod.start "22:30"', (a: any) => (a.effectivePeriod.start = '22:30')],
    // Without a zone the instant would depend on the server's time zone (X1 under America/New_York).
    ['a start time without its zone', (a: any) => (a.effectivePeriod.start = '2026-11-16T22:30:00')],
    ['effectivePeriod as a string', (a: any) => (a.effectivePeriod = 'since 22:30')],
    [
      'effectiveDateTime "now" instead of a period',
      (a: any) => {
        delete a.effectivePeriod;
        a.effectiveDateTime = 'now';
      },
    ],
  ])(
    'D1 when the running (in-progress) administration has %s, the rate running now cannot be told: needs-data, never X1',
    async (_label, mutate) => {
      const body = base();
      mutate(currentAdministration(body));
      const c = await card(body);
      expect(c.ext).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
      expect(c.detail).toContain('no readable start time');
      expect(c.detail).toContain('a date that does not parse');
    },
  );

  it('T8 when a completed administration has an unparseable start, it is set aside and the running rate still reads', async () => {
    const body = base();
    entries(body, 'medicationAdministrations').at(-1).resource.effectivePeriod.start = 'earlier';
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'T8', currentRate: OWN_RATE, recommendedRate: 0.6 });
  });
});

describe("another patient's resources in the prefetch are never used for this patient", () => {
  /** Another patient's copy of the first resource under `key`, newer and with other numbers. */
  function othersCopy(body: Body, key: string, reference: string, change: (r: any) => void): void {
    const copy = structuredClone(firstResource(body, key));
    copy.id = `other-${copy.id}`;
    copy.subject = { reference };
    change(copy);
    entries(body, key).unshift({
      fullUrl: `https://ehr.example.org/fhir/${copy.resourceType}/${copy.id}`,
      resource: copy,
    });
  }

  it.each([
    ['relative', 'Patient/someone-else'],
    ['absolute', 'https://ehr.example.org/fhir/Patient/someone-else'],
    ['versioned', 'Patient/someone-else/_history/2'],
  ])(
    "T8 another patient's newer weight (120 kg, named %s) is set aside: the card doses with this patient's 80 kg",
    async (_label, reference) => {
      const body = base();
      othersCopy(body, 'weights', reference, (w) => {
        w.effectiveDateTime = '2026-11-17T01:00:00Z';
        w.valueQuantity.value = 120;
      });
      const c = await card(body);
      expect(c.ext).toMatchObject({ ruleId: 'T8', currentRate: OWN_RATE, recommendedRate: 0.6 });
      expect(c.detail).toContain(`Dosing weight: ${OWN_WEIGHT_KG} kg`);
      expect(c.detail).not.toContain('120 kg');
      expect(c.detail).toContain('Set aside from the record: 1 resource of another patient (not used)');
      expect(audits[0]?.setAside).toEqual({ otherPatient: 1, unreadable: 0 });
    },
  );

  it("T8 another patient's administration started after this patient's current one (0.9 mg/kg/h) is set aside: the current rate stays 0.5", async () => {
    const body = base();
    othersCopy(body, 'medicationAdministrations', 'Patient/someone-else', (a) => {
      a.effectivePeriod = { start: '2026-11-17T01:30:00Z' };
      a.dosage.rateQuantity.value = 0.9;
    });
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'T8', currentRate: OWN_RATE, recommendedRate: 0.6 });
    expect(c.detail).toContain(`Current rate: ${OWN_RATE} mg/kg/h`);
    expect(c.detail).not.toContain('0.9 mg/kg/h');
  });

  it("A1 is not triggered by another patient's hallucination, A2 not by another patient's blood pressure", async () => {
    const body = base();
    entries(body, 'psychotomimeticObservations').push({
      resource: {
        resourceType: 'Observation',
        id: 'other-hallucination',
        status: 'final',
        code: { coding: [{ system: 'http://snomed.info/sct', code: '7011001', display: 'Hallucinations' }] },
        subject: { reference: 'Patient/someone-else' },
        effectiveDateTime: '2026-11-17T01:30:00Z',
      },
    });
    othersCopy(body, 'vitals', 'Patient/someone-else', (bp) => {
      bp.effectiveDateTime = '2026-11-17T01:39:00Z';
      for (const c of bp.component ?? []) if (c.valueQuantity) c.valueQuantity.value = 240;
      if (bp.valueQuantity) bp.valueQuantity.value = 240;
    });
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'T8', action: 'increase', recommendedRate: 0.6 });
    expect(c.detail).toContain('Set aside from the record: 2 resources of another patient (not used)');
  });

  it("S1 is not triggered by another Patient resource, and that patient's name never reaches the card", async () => {
    const body = base();
    entries(body, 'conditions').push({
      resource: { resourceType: 'Patient', id: 'someone-else', name: [{ family: 'Otherperson' }], gender: 'male' },
    });
    const c = await card(body);
    expect(c.ext).toMatchObject({ ruleId: 'T8' });
    expect(c.text).not.toContain('Otherperson');
    expect(c.detail).toContain('1 resource of another patient');
  });
});

describe('malformed requests answer 400, never 5xx', () => {
  const shapes: Array<[string, () => Body | string]> = [
    ['a body that is not JSON', () => '{"hook": "patient-view",'],
    ['a JSON array', () => '[]'],
    ['JSON null', () => 'null'],
    ['a prefetch value that is a string', () => ({ ...base(), prefetch: { ...base().prefetch, weights: 'none' } })],
    [
      'a prefetch value without resourceType',
      () => ({ ...base(), prefetch: { ...base().prefetch, weights: { entry: [] } } }),
    ],
    ['a prefetch that is an array', () => ({ ...base(), prefetch: [] })],
    ['a context without patientId', () => ({ ...base(), context: { userId: 'Practitioner/1' } })],
    ['a context that is a string', () => ({ ...base(), context: 'patient' })],
    ['a hookInstance that is a number', () => ({ ...base(), hookInstance: 7 })],
  ];

  it.each(shapes)('when the request has %s, the answer is 400', async (_label, make) => {
    const res = await post(make());
    expect(res.status).toBe(400);
  });

  it('when order-select draftOrders hold a null entry or a draft without resourceType, the answer is 400 or 200, never 5xx', async () => {
    for (const entry of [null, {}, { resource: null }, { resource: { id: 'x' } }, 'MedicationRequest/1']) {
      const body = base();
      body.hook = 'order-select';
      body.context = {
        userId: body.context.userId,
        patientId: PATIENT_ID,
        encounterId: body.context.encounterId,
        selections: ['MedicationRequest/draft-1'],
        draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [entry] },
      };
      const res = await post(body, ORDER_SELECT);
      expect([200, 400]).toContain(res.status);
    }
  });
});

/** 60 random charts by default; PROPERTY_RUNS (as in test/protocol/metamorphic.test.ts) raises it: ÷ 30. */
const FUZZ_RUNS = Math.max(60, Math.round(Number(process.env.PROPERTY_RUNS ?? 0) / 30) || 0);

describe('random hostile charts: never 5xx', () => {
  /** Values a careless or hostile EHR may put anywhere. */
  const junk = fc.oneof(
    fc.constantFrom<unknown>(null, '', 'x', 0, -1, 1e308, -1e308, true, [], {}, [null], { value: null }),
    fc.string({ maxLength: 8 }),
    fc.double(),
  );
  /** A path into the base chart: prefetch key, entry index, and a field (possibly nested). */
  const mutation = fc.record({
    key: fc.constantFrom(
      'patient',
      'weights',
      'painScores',
      'vitals',
      'medicationAdministrations',
      'medicationRequests',
      'tests',
      'encounters',
      'conditions',
      'consents',
    ),
    index: fc.nat(),
    field: fc.constantFrom(
      'subject',
      'status',
      'effectiveDateTime',
      'effectivePeriod',
      'valueQuantity',
      'value',
      'code',
      'dosage',
      'component',
      'resourceType',
      'id',
      'medicationCodeableConcept',
      'dosageInstruction',
      'class',
      'clinicalStatus',
      'birthDate',
      'gender',
    ),
    nested: fc.option(fc.constantFrom('value', 'start', 'end', 'reference', 'coding', 'rateQuantity', 'code'), {
      nil: null,
    }),
    value: junk,
  });

  it('whatever junk is written into up to four fields of the chart, the answer is 200 with a conformant card or 400', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const body = base();
        for (const m of mutations) {
          // The Patient resource itself (its id stays: another patient's Patient is not this record, 412).
          const list =
            m.key === 'patient'
              ? [{ resource: body.prefetch.patient }]
              : (body.prefetch[m.key]?.entry as any[] | undefined);
          if (!list || list.length === 0) continue;
          const entry = list[m.index % list.length];
          const resource = entry?.resource;
          if (!resource || typeof resource !== 'object') continue;
          if (m.key === 'patient' && (m.field === 'id' || m.field === 'resourceType')) continue;
          if (m.nested === null) resource[m.field] = m.value;
          else if (resource[m.field] && typeof resource[m.field] === 'object') resource[m.field][m.nested] = m.value;
          else resource[m.field] = { [m.nested]: m.value };
        }
        const res = await post(body);
        expect([200, 400]).toContain(res.status);
        if (res.status === 200) {
          answered += 1;
          for (const c of res.body.cards)
            expect(`${c.summary}\n${c.detail ?? ''}`).not.toMatch(/Infinity|NaN|undefined/);
        }
      }),
      { numRuns: FUZZ_RUNS },
    );
    expect(answered).toBeGreaterThan(0);
  });
});

describe('hostile draft orders on order-select', () => {
  /** An order-select request on the base chart with one ketamine draft at `rate` (JSON text for 1e400). */
  function orderSelect(rateValue: string, extra: Record<string, unknown> = {}): string {
    const body = base();
    body.hook = 'order-select';
    const draft = {
      resourceType: 'MedicationRequest',
      id: 'draft-1',
      status: 'draft',
      intent: 'order',
      subject: { reference: `Patient/${PATIENT_ID}` },
      medicationCodeableConcept: {
        coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '6130', display: 'ketamine' }],
      },
      dosageInstruction: [
        {
          doseAndRate: [
            {
              rateQuantity: { value: 987654321, unit: 'mg/kg/h', system: 'http://unitsofmeasure.org', code: 'mg/kg/h' },
            },
          ],
        },
      ],
      ...extra,
    };
    body.context = {
      userId: body.context.userId,
      patientId: PATIENT_ID,
      encounterId: body.context.encounterId,
      selections: ['MedicationRequest/draft-1'],
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] },
    };
    return JSON.stringify(body).replace('987654321', rateValue);
  }

  it.each([
    ['1e400 (raw JSON: Infinity)', '1e400'],
    ['-1e400 (raw JSON: -Infinity)', '-1e400'],
    ['1e308', '1e308'],
    [`just above maxPlausibleRate (${PARAMS.maxPlausibleRate + 1} mg/kg/h)`, String(PARAMS.maxPlausibleRate + 1)],
    ['-1', '-1'],
  ])('O0 a draft at %s cannot be read: the card says so, and no rate is computed from it', async (_label, value) => {
    const res = await post(orderSelect(value), ORDER_SELECT);
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
    const c = res.body.cards[0];
    expect(c.extension['ketamine-protocol']).toMatchObject({ ruleId: 'O0', draftRate: null });
    expect(c.summary).toMatch(/could not read the rate/);
    expect(`${c.summary}\n${c.detail}`).not.toMatch(NOT_A_NUMBER);
  });

  it("O6 another patient's newer weight sent inside draftOrders is not used: the draft is checked at this patient's 80 kg", async () => {
    const body = JSON.parse(orderSelect('0.9')) as Body;
    const weight = structuredClone(firstResource(body, 'weights'));
    Object.assign(weight, { id: 'w-other', subject: { reference: 'Patient/someone-else' } });
    weight.effectiveDateTime = '2026-11-17T01:00:00Z';
    weight.valueQuantity.value = 120;
    body.context.draftOrders.entry.push({ resource: weight });
    const res = await post(body, ORDER_SELECT);
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
    expect(res.body.cards[0].extension['ketamine-protocol']).toMatchObject({ ruleId: 'O6', draftRate: 0.9 });
    const detail: string = res.body.cards[0].detail;
    expect(detail).toContain(`${OWN_WEIGHT_KG} kg`);
    expect(detail).not.toContain('120 kg');
  });

  it('a draft with an unparseable authoredOn is still checked: at the recommended rate, no card', async () => {
    const res = await post(orderSelect('0.6', { authoredOn: 'yesterday' }), ORDER_SELECT);
    expect(res.status).toBe(200);
    expect(res.body.cards).toEqual([]);
  });
});
