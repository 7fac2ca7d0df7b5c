/**
 * Public FHIR server realities on the fallback path (issue 9, item 4): a record whose administrations
 * reference a Medication that no prefetch key returned, a server that caps `_count` and drops the `next`
 * link, a server that refuses a search with an OperationOutcome. A real local HTTP server (not nock)
 * answers as such servers do, and records what it was asked.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, FhirResource, Medication, MedicationAdministration, Observation } from 'fhir/r4';
import { gather, sanitizeServerReason, type GatherDeps } from '../../src/fhir/gather';
import { closeFhirConnections } from '../../src/fhir/fetch-json';
import { OperationOutcomeError } from '../../src/errors';
import { createLogger } from '../../src/log';
import { fetchFailureKind, fetchReasonKind } from '../../src/service/fetch-failures';
import type { CdsRequest, ServiceDefinition } from '../../src/contract/cds-hooks';

const TOKEN = 'secret-access-token-4711';
const PATIENT = 'pt-778899';

const definition: ServiceDefinition = {
  id: 'ketamine-infusion',
  hook: 'patient-view',
  title: 'Ketamine infusion',
  description: 'IV ketamine protocol',
  prefetch: {
    administrations: 'MedicationAdministration?patient={{context.patientId}}&_sort=-effective-time&_count=200',
    weights: 'Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7&_sort=-date&_count=5',
    medications: 'Medication?code=http://www.nlm.nih.gov/research/umls/rxnorm|6130&_count=50',
  },
};

// ----- a FHIR server answering what each test says ---------------------------------------------------

interface Seen {
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}
type Answer = { status: number; body: unknown } | 'stall';
let answer: (seen: Seen) => Answer = () => ({ status: 404, body: {} });
const seen: Seen[] = [];
let server: http.Server;
let BASE: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const request: Seen = {
      path: url.pathname.replace(/^\/fhir/, ''),
      query: url.searchParams,
      authorization: req.headers.authorization,
    };
    seen.push(request);
    const reply = answer(request);
    if (reply === 'stall') return; // headers never sent
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  BASE = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
});
afterEach(() => {
  seen.length = 0;
  answer = () => ({ status: 404, body: {} });
});
afterAll(async () => {
  closeFhirConnections();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  // No log line may carry the access token or what a server wrote.
  const logs = logLines.join('\n');
  expect(logs).not.toContain(TOKEN);
  expect(logs).not.toContain('Sorting is not supported');
});

// ----- the record --------------------------------------------------------------------------------

const medication = (id: string): Medication => ({
  resourceType: 'Medication',
  id,
  code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '6130' }] },
});
const administration = (id: string, reference: string): MedicationAdministration => ({
  resourceType: 'MedicationAdministration',
  id,
  status: 'in-progress',
  subject: { reference: `Patient/${PATIENT}` },
  effectivePeriod: { start: '2026-06-09T09:10:00Z' },
  medicationReference: { reference, display: 'Ketamine 100 mg in NaCl 0.9% 100 mL' },
});
const weight = (id: string): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  subject: { reference: `Patient/${PATIENT}` },
});
const searchset = (resources: FhirResource[], extra: Partial<Bundle> = {}): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })),
  ...extra,
});
const outcome = (issue: Record<string, unknown>) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'not-supported', ...issue }],
});

const request = (overrides: Partial<CdsRequest> = {}): CdsRequest => ({
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  fhirServer: BASE,
  fhirAuthorization: {
    access_token: TOKEN,
    token_type: 'Bearer',
    expires_in: 300,
    scope: 'patient/*.read',
    subject: 'cds-service',
  },
  context: { userId: 'Practitioner/abc', patientId: PATIENT },
  ...overrides,
});

const logLines: string[] = [];
const deps = (overrides: Partial<GatherDeps> = {}): GatherDeps => ({
  allowlist: [],
  timeoutMs: 2000,
  maxPages: 5,
  logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }),
  ...overrides,
});

const refs = (resources: FhirResource[]) => resources.map((r) => `${r.resourceType}/${r.id}`);

/** A server holding these Medications, answering `Medication?_id=…` as FHIR says (ids it has, in a searchset). */
const servesMedications =
  (...held: Medication[]) =>
  (s: Seen): Answer => {
    if (s.path !== '/Medication') return { status: 404, body: outcome({ code: 'not-found' }) };
    const ids = (s.query.get('_id') ?? '').split(',');
    const found = held.filter((m) => ids.includes(m.id ?? ''));
    return { status: 200, body: searchset(found, { total: found.length }) };
  };

async function preconditionFailed(promise: Promise<unknown>): Promise<OperationOutcomeError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a 412');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OperationOutcomeError);
  expect((err as OperationOutcomeError).status).toBe(412);
  return err as OperationOutcomeError;
}

// ----- 1. Medications the record references --------------------------------------------------------

describe('the Medications that the record references but no key returned', () => {
  const prefetched = (medications: Medication[] = [], admins = [administration('a1', 'Medication/ket-bag')]) => ({
    administrations: searchset(admins),
    weights: searchset([weight('w1')]),
    medications: searchset(medications),
  });

  it('CH-P3 when the prefetch medications key lacks the Medication the running administration references, it is fetched from the fhirServer in one request with the token, and joins the record', async () => {
    answer = servesMedications(medication('ket-bag'), medication('other-bag'));
    const record = await gather(definition, request({ prefetch: prefetched([medication('other-bag')]) }), deps());
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toBe('/Medication');
    expect(seen[0]?.query.get('_id')).toBe('ket-bag');
    expect(seen[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(refs(record.resources)).toEqual([
      'MedicationAdministration/a1',
      'Observation/w1',
      'Medication/other-bag',
      'Medication/ket-bag',
    ]);
    expect(record.sources).toEqual({ administrations: 'prefetch', weights: 'prefetch', medications: 'prefetch' });
    expect(record.failedSources).toBeUndefined();
  });

  it('CH-P3 CH-P7 when the keys themselves are fetched (no prefetch) and the medications key misses it, it is fetched after them', async () => {
    answer = (s) => {
      if (s.path === '/MedicationAdministration')
        return { status: 200, body: searchset([administration('a1', 'Medication/ket-bag')]) };
      if (s.path === '/Observation') return { status: 200, body: searchset([weight('w1')]) };
      if (s.path === '/Medication' && s.query.has('code')) return { status: 200, body: searchset([]) };
      return servesMedications(medication('ket-bag'))(s);
    };
    const record = await gather(definition, request(), deps());
    expect(seen.map((s) => s.path)).toHaveLength(4);
    expect(seen[3]?.query.get('_id')).toBe('ket-bag');
    expect(refs(record.resources)).toContain('Medication/ket-bag');
  });

  it('the MedicationRequests of the record and the draft orders of an order hook are read for references too; a Medication sent with the drafts is not fetched again', async () => {
    answer = servesMedications(medication('order-bag'), medication('draft-bag'));
    const order = {
      resourceType: 'MedicationRequest',
      id: 'r1',
      status: 'active',
      intent: 'order',
      subject: { reference: `Patient/${PATIENT}` },
      medicationReference: { reference: 'Medication/order-bag' },
    } as FhirResource;
    const draft = {
      ...order,
      id: 'd1',
      status: 'draft',
      medicationReference: { reference: 'Medication/draft-bag' },
    } as FhirResource;
    const draftWithItsMedication = {
      ...order,
      id: 'd2',
      status: 'draft',
      medicationReference: { reference: 'Medication/sent-bag' },
    } as FhirResource;
    const record = await gather(
      { ...definition, hook: 'order-sign' },
      request({
        hook: 'order-sign',
        context: {
          userId: 'Practitioner/abc',
          patientId: PATIENT,
          draftOrders: {
            resourceType: 'Bundle',
            type: 'collection',
            entry: [{ resource: draft }, { resource: draftWithItsMedication }, { resource: medication('sent-bag') }],
          },
        },
        prefetch: { ...prefetched([], []), administrations: searchset([order]) },
      }),
      deps(),
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]?.query.get('_id')?.split(',').sort()).toEqual(['draft-bag', 'order-bag']);
    expect(refs(record.resources)).toEqual(expect.arrayContaining(['Medication/order-bag', 'Medication/draft-bag']));
  });

  it('when every referenced Medication is already in the record, nothing is fetched', async () => {
    const record = await gather(definition, request({ prefetch: prefetched([medication('ket-bag')]) }), deps());
    expect(seen).toEqual([]);
    expect(refs(record.resources)).toContain('Medication/ket-bag');
  });

  it('only Medication/<id> references with a FHIR id on this server are fetched: contained, other servers, other types and malformed ids are not', async () => {
    answer = servesMedications(medication('same-server'), medication('versioned'));
    const admins = [
      administration('a1', '#contained-bag'),
      administration('a2', 'https://other.example/fhir/Medication/elsewhere'),
      administration('a3', 'Substance/ket'),
      administration('a4', 'Medication/bad id'),
      administration('a5', `Medication/${'x'.repeat(65)}`),
      administration('a6', 'Medication/a&_id=b'),
      administration('a7', `${BASE}/Medication/same-server`),
      administration('a8', 'Medication/versioned/_history/3'),
    ];
    const record = await gather(definition, request({ prefetch: prefetched([], admins) }), deps());
    expect(seen).toHaveLength(1);
    expect(seen[0]?.query.get('_id')).toBe('same-server,versioned');
    expect(refs(record.resources)).toEqual(expect.arrayContaining(['Medication/same-server', 'Medication/versioned']));
  });

  it('only Medications with the ids asked for are kept, whatever else the server sends', async () => {
    answer = () => ({
      status: 200,
      body: searchset([medication('ket-bag'), medication('unasked'), weight('w-smuggled')], { total: 3 }),
    });
    const record = await gather(definition, request({ prefetch: prefetched() }), deps());
    expect(refs(record.resources)).toEqual(['MedicationAdministration/a1', 'Observation/w1', 'Medication/ket-bag']);
  });

  it('at most 50 are asked for, in one request; the rest are reported as not fetched, and the call goes on', async () => {
    const admins = Array.from({ length: 60 }, (_, i) => administration(`a${i}`, `Medication/m${i}`));
    answer = servesMedications(...Array.from({ length: 60 }, (_, i) => medication(`m${i}`)));
    const record = await gather(definition, request({ prefetch: prefetched([], admins) }), deps());
    expect(seen).toHaveLength(1);
    expect(seen[0]?.query.get('_id')?.split(',')).toHaveLength(50);
    expect(seen[0]?.query.get('_count')).toBe('50');
    expect(record.resources.filter((r) => r.resourceType === 'Medication')).toHaveLength(50);
    expect(record.failedSources).toEqual([
      { key: 'medications', type: 'Medication', reason: 'more than 50 referenced Medications missing: 10 not fetched' },
    ]);
    expect(fetchReasonKind(record.failedSources?.[0]?.reason ?? '')).toBe('too-many-references');
  });

  it.each([
    ['answers 500', () => ({ status: 500, body: outcome({ diagnostics: 'boom' }) }), 'HTTP 500'],
    ['answers 403', () => ({ status: 403, body: outcome({ diagnostics: TOKEN }) }), 'HTTP 403'],
    ['answers something that is not FHIR', () => ({ status: 200, body: ['nope'] }), 'malformed response'],
  ])(
    'when the server %s for them, the call goes on without them and the failure is handed back for the metrics',
    async (_label, reply, reason) => {
      answer = reply as () => Answer;
      const record = await gather(definition, request({ prefetch: prefetched() }), deps());
      expect(refs(record.resources)).toEqual(['MedicationAdministration/a1', 'Observation/w1']);
      expect(record.failedSources).toEqual([{ key: 'medications', type: 'Medication', reason }]);
      expect(JSON.stringify(record)).not.toContain(TOKEN);
    },
  );

  it('when the server is still being asked for them at the deadline, the call is late like any other key and names them', async () => {
    answer = () => 'stall';
    const slowAtDeadline: string[] = [];
    const err = await gather(
      definition,
      request({ prefetch: prefetched() }),
      deps({ signal: AbortSignal.timeout(150), slowAtDeadline }),
    ).catch((e: unknown) => e);
    expect((err as OperationOutcomeError).status).toBe(504);
    expect(slowAtDeadline).toEqual(['medications (Medication)']);
  });

  it('without a fhirServer, or with one off the allowlist, nothing is fetched and nothing changes', async () => {
    const { fhirServer: _s, fhirAuthorization: _a, ...noServer } = request({ prefetch: prefetched() });
    const without = await gather(definition, noServer, deps());
    const offList = await gather(
      definition,
      request({ fhirServer: 'https://ehr.example.org/fhir', prefetch: prefetched() }),
      deps(),
    );
    expect(seen).toEqual([]);
    for (const record of [without, offList]) {
      expect(refs(record.resources)).toEqual(['MedicationAdministration/a1', 'Observation/w1']);
      expect(record.failedSources).toBeUndefined();
    }
  });
});

// ----- 2. a capped _count without a next link -----------------------------------------------------

describe('a server that caps _count and gives no next link', () => {
  const onlyWeightsMissing = () =>
    request({ prefetch: { administrations: searchset([]), medications: searchset([]) } });

  it('CH-P4 CH-P6 when it returns 3 of 12 matches for a key that asked for more, with no next link, the key fails like any other: 412 naming it, saying how many of how many', async () => {
    answer = () => ({ status: 200, body: searchset([weight('w1'), weight('w2'), weight('w3')], { total: 12 }) });
    const err = await preconditionFailed(gather(definition, onlyWeightsMissing(), deps()));
    expect(err.outcome.issue[0]?.diagnostics).toBe(
      'Prefetch key "weights" (Observation) missing and could not be fetched: the server returned 3 of 12 results and no next page',
    );
    expect(err.outcome.issue[0]?.expression).toEqual(['prefetch.weights']);
    expect(fetchFailureKind(err)).toBe('incomplete');
  });

  it('when it returns as many as the key asked for (the newest 5 of 30) and no next link, that is what was asked: no failure', async () => {
    const five = [1, 2, 3, 4, 5].map((n) => weight(`w${n}`));
    answer = () => ({ status: 200, body: searchset(five, { total: 30 }) });
    const record = await gather(definition, onlyWeightsMissing(), deps());
    expect(record.resources).toHaveLength(5);
  });

  it('when the matches are counted over all the pages and the last page has no next link, 4 of 9 fails', async () => {
    answer = (s) =>
      s.query.get('page') === '2'
        ? { status: 200, body: searchset([weight('w3'), weight('w4')], { total: 9 }) }
        : {
            status: 200,
            body: searchset([weight('w1'), weight('w2')], {
              total: 9,
              link: [{ relation: 'next', url: `${BASE}/Observation?patient=${PATIENT}&page=2` }],
            }),
          };
    const err = await preconditionFailed(
      gather(
        { ...definition, prefetch: { ...definition.prefetch, weights: 'Observation?patient={{context.patientId}}' } },
        onlyWeightsMissing(),
        deps(),
      ),
    );
    expect(err.outcome.issue[0]?.diagnostics).toContain('the server returned 4 of 9 results and no next page');
  });

  it('included resources do not count as matches', async () => {
    answer = () => ({
      status: 200,
      body: {
        ...searchset([weight('w1')], { total: 2 }),
        entry: [
          { resource: weight('w1'), search: { mode: 'match' } },
          { resource: medication('inc'), search: { mode: 'include' } },
        ],
      },
    });
    const err = await preconditionFailed(gather(definition, onlyWeightsMissing(), deps()));
    expect(err.outcome.issue[0]?.diagnostics).toContain('returned 1 of 2 results');
  });

  it('CH-P6 a paged prefetch completed from the server is checked the same way', async () => {
    answer = () => ({ status: 200, body: searchset([weight('w2')], { total: 7 }) });
    const first = searchset([weight('w1')], {
      total: 7,
      link: [{ relation: 'next', url: `${BASE}/Observation?patient=${PATIENT}&page=2` }],
    });
    const err = await preconditionFailed(
      gather(
        definition,
        request({ prefetch: { administrations: searchset([]), weights: first, medications: searchset([]) } }),
        deps(),
      ),
    );
    expect(err.outcome.issue[0]?.diagnostics).toContain('"weights" (Observation)');
    expect(err.outcome.issue[0]?.diagnostics).toContain('the server returned 2 of 7 results and no next page');
  });

  it('when the page limit stops the reading (a next link still there), the key is used as read, as before', async () => {
    answer = (s) => ({
      status: 200,
      body: searchset([weight(`w${s.query.get('page') ?? '1'}`)], {
        total: 50,
        link: [
          {
            relation: 'next',
            url: `${BASE}/Observation?patient=${PATIENT}&page=${Number(s.query.get('page') ?? '1') + 1}`,
          },
        ],
      }),
    });
    const record = await gather(definition, onlyWeightsMissing(), deps({ maxPages: 2 }));
    expect(record.resources).toHaveLength(2);
  });

  it('when the server gives no total, nothing can be told and the key is used as read', async () => {
    answer = () => ({ status: 200, body: searchset([weight('w1')]) });
    const record = await gather(definition, onlyWeightsMissing(), deps());
    expect(record.resources).toHaveLength(1);
  });
});

// ----- 3. a search refused with an OperationOutcome ----------------------------------------------

describe('a search the server refuses with an OperationOutcome', () => {
  const onlyAdministrationsMissing = () =>
    request({ prefetch: { weights: searchset([]), medications: searchset([]) } });

  it('CH-P4 when it answers 400 "Sorting is not supported", the 412 says the server refused the search and why, and the search is not retried without _sort', async () => {
    answer = () => ({ status: 400, body: outcome({ diagnostics: 'Sorting is not supported' }) });
    const err = await preconditionFailed(gather(definition, onlyAdministrationsMissing(), deps()));
    expect(err.outcome.issue[0]?.diagnostics).toBe(
      'Prefetch key "administrations" (MedicationAdministration) missing and could not be fetched: HTTP 400, the FHIR server refused the search: Sorting is not supported',
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]?.query.get('_sort')).toBe('-effective-time');
    expect(fetchFailureKind(err)).toBe('http-400');
  });

  it('when the issue has no diagnostics, its details.text is quoted; with neither, only the status and the refusal', async () => {
    answer = () => ({ status: 422, body: outcome({ details: { text: 'Unknown search parameter' } }) });
    let err = await preconditionFailed(gather(definition, onlyAdministrationsMissing(), deps()));
    expect(err.outcome.issue[0]?.diagnostics).toMatch(
      /HTTP 422, the FHIR server refused the search: Unknown search parameter$/,
    );
    answer = () => ({ status: 400, body: { resourceType: 'OperationOutcome', issue: [] } });
    err = await preconditionFailed(gather(definition, onlyAdministrationsMissing(), deps()));
    expect(err.outcome.issue[0]?.diagnostics).toMatch(/HTTP 400, the FHIR server refused the search$/);
  });

  it('CH-P4 the quoted reason is sanitised: no control or invisible characters, URL, query, token, JWT or patient id, at most 200 characters', async () => {
    const jwt = 'eyJhbGciOiJFUzM4NCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    const hostile =
      `Bad\u0000 request\u202e for patient ${PATIENT}: ${BASE}/MedicationAdministration?patient=${PATIENT}&_sort=x ` +
      `?patient=${PATIENT}&code=1 token ${TOKEN} or ${jwt} Bearer abc.def\n\r\t` +
      'z'.repeat(400);
    answer = () => ({ status: 400, body: outcome({ diagnostics: hostile }) });
    const err = await preconditionFailed(gather(definition, onlyAdministrationsMissing(), deps()));
    const text = err.outcome.issue[0]?.diagnostics ?? '';
    const quoted = text.slice(text.indexOf('refused the search: ') + 'refused the search: '.length);
    expect([...quoted].length).toBeLessThanOrEqual(200);
    expect(quoted.endsWith('…')).toBe(true);
    for (const secret of [PATIENT, TOKEN, jwt, 'abc.def', '127.0.0.1', '_sort=x', 'code=1'])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
    expect(quoted.startsWith('Bad request for patient […]: [URL] [query] token […] or [token] Bearer [token]')).toBe(
      true,
    );
  });

  it('a 404 on a read (a purged patient) says it was not found, with the reason and without the id', async () => {
    const withPatient: ServiceDefinition = { ...definition, prefetch: { patient: 'Patient/{{context.patientId}}' } };
    answer = () => ({
      status: 404,
      body: outcome({ code: 'not-found', diagnostics: `Resource Patient/${PATIENT} is not known` }),
    });
    const err = await preconditionFailed(gather(withPatient, request(), deps()));
    expect(err.outcome.issue[0]?.diagnostics).toBe(
      'Prefetch key "patient" (Patient) missing and could not be fetched: HTTP 404, not found on the FHIR server: Resource Patient/[…] is not known',
    );
    expect(fetchFailureKind(err)).toBe('http-404');
  });

  it('a 400 whose body is too large to be a reason is refused without it', async () => {
    answer = () => ({ status: 400, body: outcome({ diagnostics: 'x'.repeat(100_000) }) });
    const err = await preconditionFailed(gather(definition, onlyAdministrationsMissing(), deps()));
    expect(err.outcome.issue[0]?.diagnostics).toMatch(/HTTP 400, the FHIR server refused the search$/);
  });

  it('sanitizeServerReason keeps a plain reason as it is', () => {
    expect(sanitizeServerReason('HAPI-0524: Unknown search parameter "foo" for resource type "Observation"')).toBe(
      'HAPI-0524: Unknown search parameter "foo" for resource type "Observation"',
    );
  });
});
