import nock from 'nock';
import type { Bundle, Observation, OperationOutcome, Patient } from 'fhir/r4';
import { gather, type GatherDeps } from '../../src/fhir/gather';
import { OperationOutcomeError } from '../../src/errors';
import { createLogger } from '../../src/log';
import type { CdsRequest, ServiceDefinition } from '../../src/contract/cds-hooks';

const EHR = 'https://ehr.example.org';
const BASE = `${EHR}/fhir/R4`;
const TOKEN = 'secret-access-token-4711';
const SECRET_BODY = 'UPSTREAM-SECRET-DETAIL';

const definition: ServiceDefinition = {
  id: 'ketamine-infusion',
  hook: 'patient-view',
  title: 'Ketamine infusion',
  description: 'IV ketamine protocol',
  prefetch: {
    patient: 'Patient/{{context.patientId}}',
    observations: 'Observation?patient={{context.patientId}}&_count=500&_sort=-date',
    administrations: 'MedicationAdministration?patient={{context.patientId}}',
  },
};

const patient = (id: string, family = 'Doe'): Patient => ({ resourceType: 'Patient', id, name: [{ family }] });
const observation = (id: string, patientId = '123'): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'pain score' },
  subject: { reference: `Patient/${patientId}` },
});
const searchset = (resources: Array<Observation | Patient>, next?: string): Bundle => ({
  resourceType: 'Bundle',
  type: 'searchset',
  entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })),
  ...(next ? { link: [{ relation: 'next', url: next }] } : {}),
});
const empty = (): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: [] });
const outcome = (): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'exception' }],
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
  context: { userId: 'Practitioner/abc', patientId: '123' },
  ...overrides,
});

const logLines: string[] = [];
const deps = (overrides: Partial<GatherDeps> = {}): GatherDeps => ({
  allowlist: [BASE],
  timeoutMs: 2000,
  maxPages: 5,
  logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }),
  ...overrides,
});

/** Requests nock saw that no interceptor matched (they would have left the process). */
const unmatched: string[] = [];
const onNoMatch = (req: { method?: string; path?: string; host?: string }) =>
  unmatched.push(`${req.method} ${req.host ?? ''}${req.path ?? ''}`);

const expectPreconditionFailed = async (promise: Promise<unknown>, key: string): Promise<OperationOutcomeError> => {
  const err = await promise.then(
    () => {
      throw new Error('expected a 412');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OperationOutcomeError);
  const ooe = err as OperationOutcomeError;
  expect(ooe.status).toBe(412);
  expect(ooe.outcome.resourceType).toBe('OperationOutcome');
  expect(ooe.outcome.issue[0]?.diagnostics).toContain(`"${key}"`);
  expect(ooe.outcome.issue[0]?.expression).toContain(`prefetch.${key}`);
  expect(JSON.stringify(ooe.outcome)).not.toContain(SECRET_BODY);
  return ooe;
};

beforeAll(() => {
  nock.disableNetConnect();
  nock.emitter.on('no match', onNoMatch);
});
afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
  unmatched.length = 0;
});
afterAll(() => {
  nock.emitter.removeListener('no match', onNoMatch);
  nock.enableNetConnect();
  // No log line may carry the access token, an upstream body or resource content.
  const logs = logLines.join('\n');
  expect(logLines.length).toBeGreaterThan(0);
  expect(logs).not.toContain(TOKEN);
  expect(logs).not.toContain(SECRET_BODY);
  expect(logs).not.toContain('Doe');
});

describe('gathering the record from prefetch', () => {
  it('CH-P1 uses prefetched data for every key and makes no outbound call', async () => {
    const record = await gather(
      definition,
      request({
        prefetch: {
          patient: patient('123'),
          observations: searchset([observation('o1'), observation('o2')]),
          administrations: empty(),
        },
      }),
      deps(),
    );
    expect(record.sources).toEqual({ patient: 'prefetch', observations: 'prefetch', administrations: 'prefetch' });
    expect(record.resources.map((r) => `${r.resourceType}/${r.id}`)).toEqual([
      'Patient/123',
      'Observation/o1',
      'Observation/o2',
    ]);
    expect(unmatched).toEqual([]);
  });

  it('CH-P1 needs no fhirServer when everything is prefetched, even one off the allowlist', async () => {
    const record = await gather(
      definition,
      request({
        fhirServer: 'http://169.254.169.254/latest',
        prefetch: { patient: patient('123'), observations: empty(), administrations: empty() },
      }),
      deps(),
    );
    expect(record.resources).toHaveLength(1);
    expect(unmatched).toEqual([]);
  });

  it('CH-P2 a key sent as null means "no data": no refetch and no 412', async () => {
    const { fhirServer: _s, fhirAuthorization: _a, ...noServer } = request();
    const record = await gather(
      definition,
      { ...noServer, prefetch: { patient: patient('123'), observations: null, administrations: null } },
      deps(),
    );
    expect(record.sources).toEqual({ patient: 'prefetch', observations: 'null', administrations: 'null' });
    expect(record.resources).toHaveLength(1);
    expect(unmatched).toEqual([]);
  });

  it('flattens searchsets, skips outcome entries and de-duplicates by type/id across keys', async () => {
    const withOutcome: Bundle = {
      ...searchset([observation('o1'), observation('o2')]),
      entry: [
        ...(searchset([observation('o1'), observation('o2')]).entry ?? []),
        { resource: outcome(), search: { mode: 'outcome' } },
      ],
    };
    const record = await gather(
      definition,
      request({
        prefetch: {
          patient: patient('123'),
          observations: withOutcome,
          administrations: searchset([observation('o2')]),
        },
      }),
      deps(),
    );
    expect(record.resources.map((r) => `${r.resourceType}/${r.id}`)).toEqual([
      'Patient/123',
      'Observation/o1',
      'Observation/o2',
    ]);
  });

  it('ignores prefetch keys the service did not ask for', async () => {
    const record = await gather(
      definition,
      request({
        prefetch: { patient: patient('123'), observations: empty(), administrations: empty(), extra: patient('999') },
      }),
      deps(),
    );
    expect(record.resources.map((r) => r.id)).toEqual(['123']);
  });

  it('answers 400 for a prefetch value that is not a FHIR resource', async () => {
    const bad = { patient: 'Patient/123' } as unknown as CdsRequest['prefetch'];
    await expect(gather(definition, request({ prefetch: bad }), deps())).rejects.toMatchObject({ status: 400 });
  });
});

describe('fetching missing prefetch keys from the FHIR server', () => {
  it('CH-P3 fetches only the missing key, tokens substituted and URL-encoded, with the Bearer token', async () => {
    const scope = nock(BASE, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/Observation')
      .query({ patient: 'pt 1&x=2', _count: '500', _sort: '-date' })
      .reply(200, searchset([observation('o9', 'pt 1&x=2')]));
    const record = await gather(
      definition,
      request({
        context: { patientId: 'pt 1&x=2' },
        prefetch: { patient: patient('pt 1&x=2'), administrations: empty() },
      }),
      deps(),
    );
    expect(scope.isDone()).toBe(true);
    expect(unmatched).toEqual([]);
    expect(record.sources).toEqual({ patient: 'prefetch', observations: 'fetched', administrations: 'prefetch' });
    expect(record.resources.map((r) => r.id)).toEqual(['pt 1&x=2', 'o9']);
  });

  it('CH-P3 encodes a read id so it stays one path segment', async () => {
    const scope = nock(BASE).get('/Patient/a%2Fb').reply(200, patient('a/b'));
    await gather(
      definition,
      request({ context: { patientId: 'a/b' }, prefetch: { observations: empty(), administrations: empty() } }),
      deps(),
    );
    expect(scope.isDone()).toBe(true);
    expect(unmatched).toEqual([]);
  });

  it('CH-P3 fetches the missing keys in parallel', async () => {
    // Each response is held until both requests have arrived: sequential fetching would time out.
    let arrived = 0;
    let release: () => void = () => undefined;
    const bothArrived = new Promise<void>((resolve) => (release = resolve));
    const hold = async () => {
      arrived += 1;
      if (arrived === 2) release();
      await bothArrived;
    };
    nock(BASE)
      .get('/Observation')
      .query(true)
      .reply(200, async () => {
        await hold();
        return searchset([observation('o1')]);
      })
      .get('/MedicationAdministration')
      .query(true)
      .reply(200, async () => {
        await hold();
        return empty();
      });
    const record = await gather(
      definition,
      request({ prefetch: { patient: patient('123') } }),
      deps({ timeoutMs: 1500 }),
    );
    expect(arrived).toBe(2);
    expect(record.sources).toEqual({ patient: 'prefetch', observations: 'fetched', administrations: 'fetched' });
  });

  it('CH-P3 sends no Authorization header when the request carries no fhirAuthorization', async () => {
    const { fhirAuthorization: _a, ...anonymous } = request({
      prefetch: { observations: empty(), administrations: empty() },
    });
    const scope = nock(BASE, { badheaders: ['authorization'] })
      .get('/Patient/123')
      .reply(200, patient('123'));
    await gather(definition, anonymous, deps());
    expect(scope.isDone()).toBe(true);
  });

  it('CH-P7 fetches every key when the prefetch object is absent', async () => {
    const scope = nock(BASE)
      .get('/Patient/123')
      .reply(200, patient('123'))
      .get('/Observation')
      .query({ patient: '123', _count: '500', _sort: '-date' })
      .reply(200, searchset([observation('o1')]))
      .get('/MedicationAdministration')
      .query({ patient: '123' })
      .reply(200, empty());
    const record = await gather(definition, request(), deps());
    expect(scope.isDone()).toBe(true);
    expect(record.sources).toEqual({ patient: 'fetched', observations: 'fetched', administrations: 'fetched' });
    expect(record.resources.map((r) => r.id)).toEqual(['123', 'o1']);
  });

  it('CH-R6 fetches with the bare id when patientId comes as Patient/123', async () => {
    const scope = nock(BASE).get('/Patient/123').reply(200, patient('123'));
    await gather(
      definition,
      request({ context: { patientId: 'Patient/123' }, prefetch: { observations: empty(), administrations: empty() } }),
      deps(),
    );
    expect(scope.isDone()).toBe(true);
  });

  it('a key whose token has no value (no encounterId) yields no data: no request, no 412', async () => {
    const withEncounter: ServiceDefinition = {
      ...definition,
      prefetch: { encounter: 'Encounter/{{context.encounterId}}' },
    };
    const record = await gather(withEncounter, request({ prefetch: {} }), deps());
    expect(record).toEqual({ resources: [], sources: { encounter: 'null' } });
    expect(unmatched).toEqual([]);
  });

  it('CH-P5 treats an OperationOutcome prefetch value as missing and refetches it', async () => {
    const scope = nock(BASE)
      .get('/Observation')
      .query(true)
      .reply(200, searchset([observation('o1')]));
    const record = await gather(
      definition,
      request({ prefetch: { patient: patient('123'), observations: outcome(), administrations: empty() } }),
      deps(),
    );
    expect(scope.isDone()).toBe(true);
    expect(record.sources.observations).toBe('outcome-refetched');
    expect(record.resources.map((r) => r.resourceType)).toEqual(['Patient', 'Observation']);
  });

  it('CH-P5 an OperationOutcome prefetch value with no fhirServer → 412 naming the key, no crash', async () => {
    const { fhirServer: _s, fhirAuthorization: _a, ...noServer } = request();
    await expectPreconditionFailed(
      gather(
        definition,
        { ...noServer, prefetch: { patient: patient('123'), observations: outcome(), administrations: empty() } },
        deps(),
      ),
      'observations',
    );
  });
});

describe('CH-P4 when a missing key cannot be fetched', () => {
  const onlyObservationsMissing = () => request({ prefetch: { patient: patient('123'), administrations: empty() } });

  it('CH-P4 no fhirServer → 412 naming the key', async () => {
    const { fhirServer: _s, fhirAuthorization: _a, ...noServer } = onlyObservationsMissing();
    await expectPreconditionFailed(gather(definition, noServer, deps()), 'observations');
    expect(unmatched).toEqual([]);
  });

  it.each([401, 403, 500, 503])('CH-P4 the server answers %i → 412 without the upstream body', async (status) => {
    nock(BASE)
      .get('/Observation')
      .query(true)
      .reply(status, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'exception', diagnostics: SECRET_BODY }],
      });
    const err = await expectPreconditionFailed(gather(definition, onlyObservationsMissing(), deps()), 'observations');
    expect(err.outcome.issue[0]?.diagnostics).toContain(`HTTP ${status}`);
  });

  it('CH-P4 a timeout → 412', async () => {
    nock(BASE).get('/Observation').query(true).delay(1000).reply(200, empty());
    const err = await expectPreconditionFailed(
      gather(definition, onlyObservationsMissing(), deps({ timeoutMs: 100 })),
      'observations',
    );
    expect(err.outcome.issue[0]?.diagnostics).toContain('timeout');
  });

  it('CH-P4 malformed JSON → 412 without the body', async () => {
    nock(BASE)
      .get('/Observation')
      .query(true)
      .reply(200, `{"resourceType": "Bundle", ${SECRET_BODY}`, { 'content-type': 'application/fhir+json' });
    await expectPreconditionFailed(gather(definition, onlyObservationsMissing(), deps()), 'observations');
  });

  it('CH-P4 JSON that is not a FHIR resource → 412', async () => {
    nock(BASE).get('/Observation').query(true).reply(200, [SECRET_BODY]);
    await expectPreconditionFailed(gather(definition, onlyObservationsMissing(), deps()), 'observations');
  });

  it('CH-P4 a network error → 412', async () => {
    nock(BASE).get('/Observation').query(true).replyWithError(SECRET_BODY);
    await expectPreconditionFailed(gather(definition, onlyObservationsMissing(), deps()), 'observations');
  });

  it('CH-J7 a redirect is not followed (the token never leaves the allowed server)', async () => {
    nock(BASE).get('/Observation').query(true).reply(302, '', { location: 'http://169.254.169.254/latest/meta-data' });
    const internal = nock('http://169.254.169.254').get(/.*/).reply(200, empty());
    await expectPreconditionFailed(gather(definition, onlyObservationsMissing(), deps()), 'observations');
    expect(internal.isDone()).toBe(false);
    expect(unmatched).toEqual([]);
  });

  it('one failing key fails the call even when the other keys succeed', async () => {
    nock(BASE).get('/Patient/123').reply(200, patient('123')).get('/Observation').query(true).reply(500, SECRET_BODY);
    nock(BASE).get('/MedicationAdministration').query(true).reply(200, empty());
    await expectPreconditionFailed(gather(definition, request(), deps()), 'observations');
  });
});

describe('CH-P6 paged searchsets', () => {
  const page = (n: number, next?: number) =>
    searchset([observation(`p${n}`)], next ? `${BASE}/Observation?patient=123&page=${next}` : undefined);

  it('CH-P6 follows next links with the token up to the page limit', async () => {
    const scope = nock(BASE, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/Observation')
      .query({ patient: '123', _count: '500', _sort: '-date' })
      .reply(200, page(1, 2))
      .get('/Observation')
      .query({ patient: '123', page: '2' })
      .reply(200, page(2, 3))
      .get('/Observation')
      .query({ patient: '123', page: '3' })
      .reply(200, page(3, 4));
    const beyondLimit = nock(BASE).get('/Observation').query({ patient: '123', page: '4' }).reply(200, page(4));
    const record = await gather(
      definition,
      request({ prefetch: { patient: patient('123'), administrations: empty() } }),
      deps({ maxPages: 3 }),
    );
    expect(scope.isDone()).toBe(true);
    expect(beyondLimit.isDone()).toBe(false);
    expect(record.resources.map((r) => r.id)).toEqual(['123', 'p1', 'p2', 'p3']);
  });

  it('CH-P6 completes a paged prefetched searchset from the FHIR server', async () => {
    const scope = nock(BASE, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/Observation')
      .query({ patient: '123', page: '2' })
      .reply(200, page(2));
    const record = await gather(
      definition,
      request({ prefetch: { patient: patient('123'), observations: page(1, 2), administrations: empty() } }),
      deps(),
    );
    expect(scope.isDone()).toBe(true);
    expect(record.sources.observations).toBe('prefetch');
    expect(record.resources.map((r) => r.id)).toEqual(['123', 'p1', 'p2']);
  });

  it('CH-P6 CH-J7 a next link to another host → 412 and no request to it', async () => {
    nock(BASE)
      .get('/Observation')
      .query(true)
      .reply(200, searchset([observation('p1')], 'http://10.0.0.7/fhir/Observation?page=2'));
    const internal = nock('http://10.0.0.7').get(/.*/).reply(200, empty());
    await expectPreconditionFailed(
      gather(definition, request({ prefetch: { patient: patient('123'), administrations: empty() } }), deps()),
      'observations',
    );
    expect(internal.isDone()).toBe(false);
  });
});

describe('Bundles whose entry or link is not a list: never a 5xx, counted for the card', () => {
  const malformed = (over: Record<string, unknown>) =>
    ({ resourceType: 'Bundle', type: 'searchset', ...over }) as unknown as Bundle;

  it.each([
    ['entry is an object', { entry: { a: 1 } }],
    ['entry is a number', { entry: 7 }],
    ['entry is a boolean', { entry: true }],
    ['link is an object', { entry: [], link: { relation: 'next', url: `${BASE}/Observation?page=2` } }],
    ['link holds null and a string', { entry: [], link: [null, 'next'] }],
  ])('when a prefetched Bundle %s, it contributes no resources and no request is made', async (_label, over) => {
    const record = await gather(
      definition,
      request({ prefetch: { patient: patient('123'), observations: malformed(over), administrations: empty() } }),
      deps(),
    );
    expect(record.resources.map((r) => r.id)).toEqual(['123']);
    // The prefetch's own Bundles are counted from the request (malformedPrefetchEntries), not here.
    expect(record.malformedFetched).toBeUndefined();
    expect(unmatched).toEqual([]);
  });

  it.each([
    ['entry is an object', { entry: { a: 1 } }, 1],
    ['entry is a boolean', { entry: false }, 1],
    ['link is an object', { entry: [], link: { relation: 'next', url: 'Observation?page=2' } }, 1],
    ['entry holds null and a string', { entry: [null, 'Observation/o1'] }, 2],
  ])(
    'when the FHIR server answers a Bundle whose %s, the call goes on and the malformed parts are counted',
    async (_label, over, count) => {
      nock(BASE).get('/Observation').query(true).reply(200, malformed(over));
      const record = await gather(
        definition,
        request({ prefetch: { patient: patient('123'), administrations: empty() } }),
        deps(),
      );
      expect(record.resources.map((r) => r.id)).toEqual(['123']);
      expect(record.malformedFetched).toBe(count);
    },
  );

  it('when a page fetched to complete a prefetched searchset has a null entry, only that page is counted here', async () => {
    nock(BASE)
      .get('/Observation')
      .query({ patient: '123', page: '2' })
      .reply(200, { ...searchset([observation('p2')]), entry: [null, { resource: observation('p2') }] });
    const first = searchset([observation('p1')], `${BASE}/Observation?patient=123&page=2`);
    const record = await gather(
      definition,
      request({ prefetch: { patient: patient('123'), observations: first, administrations: empty() } }),
      deps(),
    );
    expect(record.resources.map((r) => r.id)).toEqual(['123', 'p1', 'p2']);
    expect(record.malformedFetched).toBe(1);
  });

  it("CH-P4 when a fetched Bundle's next link url is not a string, the key fails with a 412 (malformed paging link)", async () => {
    nock(BASE)
      .get('/Observation')
      .query(true)
      .reply(200, malformed({ entry: [], link: [{ relation: 'next', url: { href: 'page=2' } }] }));
    const err = await expectPreconditionFailed(
      gather(definition, request({ prefetch: { patient: patient('123'), administrations: empty() } }), deps()),
      'observations',
    );
    expect(err.outcome.issue[0]?.diagnostics).toContain('malformed paging link');
  });
});

describe('CH-J7 the fhirServer must be allowed', () => {
  it('CH-J7 a fhirServer off the allowlist → 412 and no request is made', async () => {
    const internal = nock('http://169.254.169.254').get(/.*/).reply(200, patient('123'));
    const err = await expectPreconditionFailed(
      gather(
        definition,
        request({
          fhirServer: 'http://169.254.169.254/latest',
          prefetch: { observations: empty(), administrations: empty() },
        }),
        deps(),
      ),
      'patient',
    );
    expect(err.outcome.issue[0]?.diagnostics).toContain('not an allowed FHIR server');
    expect(internal.isDone()).toBe(false);
    expect(unmatched).toEqual([]);
  });

  it('CH-J7 a look-alike path or host on the allowed origin is refused', async () => {
    for (const fhirServer of [`${EHR}/fhir/R4x`, `${EHR}/admin`, 'https://ehr.example.org.attacker.test/fhir/R4']) {
      await expectPreconditionFailed(
        gather(
          definition,
          request({ fhirServer, prefetch: { observations: empty(), administrations: empty() } }),
          deps(),
        ),
        'patient',
      );
    }
    expect(unmatched).toEqual([]);
  });

  it('CH-J7 with an empty allowlist only loopback servers are reached', async () => {
    const loopback = nock('http://127.0.0.1:8099').get('/fhir/Patient/123').reply(200, patient('123'));
    const record = await gather(
      definition,
      request({
        fhirServer: 'http://127.0.0.1:8099/fhir',
        prefetch: { observations: empty(), administrations: empty() },
      }),
      deps({ allowlist: [] }),
    );
    expect(loopback.isDone()).toBe(true);
    expect(record.resources).toHaveLength(1);
    await expectPreconditionFailed(
      gather(
        definition,
        request({ prefetch: { observations: empty(), administrations: empty() } }),
        deps({ allowlist: [] }),
      ),
      'patient',
    );
    expect(unmatched).toEqual([]);
  });
});

describe('logging', () => {
  it('logs key names, sources, counts and timings only: no token, URL, id or resource content', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    nock(BASE).get('/Patient/p-778899').reply(200, patient('p-778899', 'Doe'));
    await gather(
      definition,
      request({ context: { patientId: 'p-778899' }, prefetch: { observations: null, administrations: empty() } }),
      deps({ logger }),
    );
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const summary = entries.find((e) => e.event === 'prefetch.gathered');
    expect(summary).toMatchObject({
      sources: ['patient:fetched', 'observations:null', 'administrations:prefetch'],
      fetched: ['patient'],
      count: 1,
    });
    expect(typeof summary?.ms).toBe('number');
    expect(entries.find((e) => e.event === 'prefetch.key')).toMatchObject({
      key: 'patient',
      source: 'fetched',
      pages: 1,
    });
    const text = lines.join('\n');
    for (const secret of [TOKEN, 'p-778899', 'Doe', BASE]) expect(text).not.toContain(secret);
  });
});

describe('deadlines and concurrency', () => {
  it('CH-B2 the caller’s deadline cancels outstanding fetches with a 504 timeout outcome', async () => {
    nock(BASE).get('/Observation').query(true).delay(1500).reply(200, empty());
    const deadline = AbortSignal.timeout(100);
    const err = await gather(
      definition,
      request({ prefetch: { patient: patient('123'), administrations: empty() } }),
      deps({ signal: deadline }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationOutcomeError);
    expect((err as OperationOutcomeError).status).toBe(504);
    expect((err as OperationOutcomeError).outcome.issue[0]?.code).toBe('timeout');
  });

  it('CH-B3 concurrent calls for different patients never mix their data or tokens', async () => {
    const other = 'https://other-ehr.example.net/fhir';
    nock(BASE, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/Patient/123')
      .delay(50)
      .reply(200, patient('123', 'Alpha'));
    nock(other, { reqheaders: { authorization: 'Bearer other-token' } })
      .get('/Patient/456')
      .reply(200, patient('456', 'Beta'));
    const prefetch = { observations: empty(), administrations: empty() };
    const [a, b] = await Promise.all([
      gather(definition, request({ prefetch }), deps({ allowlist: [BASE, other] })),
      gather(
        definition,
        request({
          fhirServer: other,
          fhirAuthorization: {
            access_token: 'other-token',
            token_type: 'Bearer',
            expires_in: 300,
            scope: 'patient/*.read',
            subject: 'svc',
          },
          context: { patientId: '456' },
          prefetch,
        }),
        deps({ allowlist: [BASE, other] }),
      ),
    ]);
    expect(a.resources.map((r) => r.id)).toEqual(['123']);
    expect(b.resources.map((r) => r.id)).toEqual(['456']);
    expect(unmatched).toEqual([]);
  });
});
