/**
 * FHIR R4 search on the embedded server as the CDS Hooks Sandbox and the CLI use it: POST [type]/_search
 * (form body, URL, both) answers exactly what GET answers, references with and without their type, token
 * lists, _sort, _count and next links, and anything it cannot answer exactly is a 400 OperationOutcome.
 */
import type { Bundle, OperationOutcome, Resource } from 'fhir/r4';
import express from 'express';
import supertest from 'supertest';
import { checkSearchQuery, createMemoryFhir, type MemoryFhir } from '../../src/fhir/memory-server'; // first: WebSocket shim
import { MemoryRepository } from '@medplum/fhir-router';
import { parseSearchRequest } from '@medplum/core';
import { asTransaction, readBundle, readManifest } from '../../src/cli/examples';
import { examplesDir } from '../../src/config/paths';
import { loadDefinitions } from '../../src/service/definitions';
import { renderTemplate } from '../../src/fhir/prefetch-template';
import type { CdsRequest } from '../../src/contract/cds-hooks';

let fhir: MemoryFhir;
let app: express.Express;
const manifest = readManifest(examplesDir());
const definitions = [...loadDefinitions().values()];
const FORM = 'application/x-www-form-urlencoded';

beforeAll(async () => {
  fhir = await createMemoryFhir({ seed: manifest.map((e) => asTransaction(readBundle(examplesDir(), e.file))) });
  app = express();
  app.use('/fhir', fhir.router);
});

// One Host for every request: the paging links of two answers compare equal.
const HOST = 'fhir.test';
const get = (pathAndQuery: string) => supertest(app).get(`/fhir/${pathAndQuery}`).set('Host', HOST);
const postSearch = (type: string, body: string, urlQuery = '') =>
  supertest(app)
    .post(`/fhir/${type}/_search${urlQuery ? `?${urlQuery}` : ''}`)
    .set('Content-Type', FORM)
    .set('Host', HOST)
    .send(body);
const ids = (bundle: Bundle) => (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);

function request(patientId: string, encounterId?: string): CdsRequest {
  return {
    hook: 'patient-view',
    hookInstance: '0b8e7a3c-5d2f-4a61-9c7e-2f4b6d8a1c3e',
    fhirServer: 'http://localhost/fhir',
    context: { userId: 'Practitioner/abc', patientId, ...(encounterId ? { encounterId } : {}) },
  } as CdsRequest;
}

describe('POST [type]/_search on the embedded FHIR server', () => {
  const searches = definitions.flatMap((definition) =>
    Object.entries(definition.prefetch ?? {}).map(([key, template]) => ({ service: definition.id, key, template })),
  );

  it('when the Sandbox fills every prefetch template of every service with a form body, it answers the very bundle GET answers', async () => {
    let nonEmpty = 0;
    for (const example of manifest.slice(0, 6)) {
      for (const { service, key, template } of searches) {
        const url = renderTemplate(template, request(example.patientId, example.encounterId));
        if (!url?.includes('?')) continue;
        const [type = '', query = ''] = url.split('?');
        const viaGet = await get(url);
        const viaPost = await postSearch(type, query);
        expect({ service, key, status: viaPost.status }).toEqual({ service, key, status: 200 });
        expect(viaGet.status).toBe(200);
        expect(viaPost.body).toEqual(viaGet.body);
        const bundle = viaPost.body as Bundle;
        if ((bundle.entry?.length ?? 0) > 0) nonEmpty++;
        // every entry that names a patient is this patient's
        for (const entry of bundle.entry ?? []) {
          const r = entry.resource as Resource & { subject?: { reference?: string }; patient?: { reference?: string } };
          const ref = r.subject?.reference ?? r.patient?.reference;
          if (ref) expect(ref).toBe(`Patient/${example.patientId}`);
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(50);
  });

  it('when parameters come in the URL, the body, or both, it answers the same bundle', async () => {
    const query = 'patient=case1-patient&code=http://loinc.org|38214-3&_sort=-date&_count=7';
    const viaGet = (await get(`Observation?${query}`)).body as Bundle;
    expect(viaGet.entry).toHaveLength(7);
    expect((await postSearch('Observation', '', query)).body).toEqual(viaGet);
    // split between URL and body: the same entries (the links list the parameters in another order)
    const split = (
      await postSearch('Observation', 'code=http://loinc.org|38214-3&_sort=-date', 'patient=case1-patient&_count=7')
    ).body as Bundle;
    expect({ entry: split.entry, total: split.total }).toEqual({ entry: viaGet.entry, total: viaGet.total });
    const params = (b: Bundle, relation: string) =>
      [...new URL(b.link?.find((l) => l.relation === relation)?.url ?? 'http://x').searchParams].sort();
    expect(params(split, 'next')).toEqual(params(viaGet, 'next'));
    // percent-encoded form values, as browsers send them
    const encoded = new URLSearchParams({
      patient: 'case1-patient',
      code: 'http://loinc.org|38214-3',
      _sort: '-date',
      _count: '7',
    });
    expect((await postSearch('Observation', encoded.toString())).body).toEqual(viaGet);
  });

  it('when a POST _search has a JSON body, it refuses it (415) instead of ignoring its parameters', async () => {
    const res = await supertest(app)
      .post('/fhir/Observation/_search')
      .set('Content-Type', 'application/json')
      .send({ patient: 'case1-patient' });
    expect(res.status).toBe(415);
    expect((res.body as OperationOutcome).resourceType).toBe('OperationOutcome');
  });
});

describe('the FHIR R4 search rules the Sandbox and the CLI rely on', () => {
  it('when the patient is given with or without "Patient/", on patient or subject, it finds the same resources', async () => {
    const forms = [
      'patient=case2-patient',
      'patient=Patient/case2-patient',
      'subject=Patient/case2-patient',
      'subject=case2-patient',
      'subject:Patient=case2-patient',
    ];
    const results = await Promise.all(forms.map(async (q) => ids((await get(`Observation?${q}`)).body as Bundle)));
    expect(results[0]?.length).toBeGreaterThan(20);
    for (const r of results) expect(r).toEqual(results[0]);
    const other = ids((await get('Observation?patient=case1-patient')).body as Bundle);
    expect(other.some((id) => results[0]?.includes(id))).toBe(false);
  });

  it('when code lists system|code pairs (comma = or), it matches any of them, and a bare code ignores the system', async () => {
    const weight = ids((await get('Observation?patient=case1-patient&code=http://loinc.org|29463-7')).body as Bundle);
    const pain = ids((await get('Observation?patient=case1-patient&code=http://loinc.org|38214-3')).body as Bundle);
    const both = ids(
      (await get('Observation?patient=case1-patient&code=http://loinc.org|29463-7,http://loinc.org|38214-3'))
        .body as Bundle,
    );
    expect(weight.length).toBeGreaterThan(0);
    expect(pain.length).toBeGreaterThan(0);
    expect([...both].sort()).toEqual([...weight, ...pain].sort());
    expect(ids((await get('Observation?patient=case1-patient&code=38214-3')).body as Bundle).sort()).toEqual(
      [...pain].sort(),
    );
    expect((await get('Observation?patient=case1-patient&code=http://snomed.info/sct|38214-3')).body.entry).toBe(
      undefined,
    );
  });

  it('when it sorts by -date and pages with _count, following the next links gives the unpaged list in order', async () => {
    const all = (await get('Observation?patient=case1-patient&_sort=-date&_count=1000')).body as Bundle;
    const dates = (all.entry ?? []).map((e) => (e.resource as { effectiveDateTime?: string }).effectiveDateTime ?? '');
    expect(dates.length).toBeGreaterThan(40);
    expect([...dates].sort().reverse()).toEqual(dates);
    const paged: string[] = [];
    let next: string | undefined = '/fhir/Observation?patient=case1-patient&_sort=-date&_count=15';
    let pages = 0;
    while (next) {
      const res = await supertest(app)
        .get(next.replace(/^https?:\/\/[^/]+/, ''))
        .set('Host', HOST);
      const bundle = res.body as Bundle;
      expect(bundle.total).toBe(all.entry?.length);
      paged.push(...ids(bundle));
      next = bundle.link?.find((l) => l.relation === 'next')?.url;
      pages++;
    }
    expect(pages).toBe(Math.ceil((all.entry?.length ?? 0) / 15));
    expect(paged).toEqual(ids(all));
  });

  it('when times are written in different zones or as Periods, _sort=date orders them by the instant, a resource without one last', async () => {
    const at = (id: string, effective: Record<string, unknown>) => ({
      resource: {
        resourceType: 'Observation',
        id,
        status: 'final',
        code: { text: 'pain' },
        subject: { reference: 'Patient/sort-zones' },
        ...effective,
      },
      request: { method: 'PUT', url: `Observation/${id}` },
    });
    const zoned = await createMemoryFhir({
      seed: [
        {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            at('pacific-18z', { effectiveDateTime: '2026-11-24T10:00:00-08:00' }),
            at('utc-15z', { effectiveDateTime: '2026-11-24T15:00:00Z' }),
            at('offset-12z', { effectiveDateTime: '2026-11-24T12:00:00+00:00' }),
            at('period-09z', { effectivePeriod: { start: '2026-11-24T09:00:00Z', end: '2026-11-24T21:00:00Z' } }),
            at('period-20z', { effectivePeriod: { start: '2026-11-24T20:00:00Z' } }),
            at('no-time', {}),
          ],
        } as Bundle,
      ],
    });
    const zonedApp = express().use('/fhir', zoned.router);
    const order = async (sort: string) =>
      ids((await supertest(zonedApp).get(`/fhir/Observation?patient=sort-zones&_sort=${sort}`)).body as Bundle);
    const ascending = ['period-09z', 'offset-12z', 'utc-15z', 'pacific-18z', 'period-20z'].map(
      (id) => `Observation/${id}`,
    );
    expect(await order('date')).toEqual([...ascending, 'Observation/no-time']);
    expect(await order('-date')).toEqual([...ascending].reverse().concat('Observation/no-time'));
  });

  it('when a POST _search pages, its next link is a GET with the same parameters', async () => {
    const res = await postSearch('Observation', 'patient=case1-patient&_sort=-date&_count=5');
    const next = (res.body as Bundle).link?.find((l) => l.relation === 'next')?.url ?? '';
    expect(next).toMatch(/\/fhir\/Observation\?patient=case1-patient&_sort=-date&_count=5&_offset=5$/);
  });

  it.each([
    ['an unknown parameter', 'Observation?patient=case1-patient&colour=blue', 'Unknown search parameter "colour"'],
    ['a modifier it does not implement', 'Observation?code:text=pain', 'Modifier :text'],
    ['a chained parameter', 'Observation?subject.name=Smith', 'Chained search'],
    ['an unsortable _sort', 'Observation?_sort=colour', '_sort parameter "colour"'],
    ['an unreadable date', 'Observation?date=ge2026-13-01', 'Invalid date'],
    ['a non-numeric _count', 'Observation?_count=many', '_count'],
    ['an unsupported result parameter', 'Observation?_elements=code', 'Unknown search parameter "_elements"'],
    ['a parameter type it cannot match', 'Observation?value-quantity=5', 'not supported'],
  ])(
    'when a search has %s, it answers 400 with an OperationOutcome, never an unfiltered result (GET and POST)',
    async (_what, url, message) => {
      const [type = '', query = ''] = url.split('?');
      for (const res of [await get(url), await postSearch(type, query)]) {
        expect(res.status).toBe(400);
        const body = res.body as OperationOutcome;
        expect(body.resourceType).toBe('OperationOutcome');
        expect(body.issue[0]?.code).toBe('invalid');
        expect(body.issue[0]?.diagnostics).toContain(message);
      }
    },
  );

  it('when the query is checked, the reference type modifier becomes the reference value', () => {
    expect(checkSearchQuery('Observation', { 'subject:Patient': 'a,b', _count: '3' })).toEqual({
      query: { subject: ['Patient/a,Patient/b'], _count: ['3'] },
    });
  });
});

describe('the index by reference behind patient-scoped searches', () => {
  const stockIds = async (stock: MemoryRepository, type: string, query: Record<string, string>) => {
    const bundle = await stock.search(parseSearchRequest(type, query));
    return (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`).sort();
  };

  it('when resources are created, re-pointed to another patient and deleted, searches follow, as the stock scan does', async () => {
    const own = await createMemoryFhir();
    const stock = new MemoryRepository();
    const obs = (id: string, patient: string) => ({
      resourceType: 'Observation' as const,
      id,
      status: 'final' as const,
      code: { text: 'pain' },
      subject: { reference: `Patient/${patient}` },
    });
    for (const repo of [own.repo, stock]) {
      await repo.updateResource(obs('o1', 'p1'));
      await repo.updateResource(obs('o2', 'p1'));
      await repo.updateResource(obs('o3', 'p2'));
      await repo.updateResource(obs('o2', 'p2')); // re-pointed
      await repo.deleteResource('Observation', 'o3');
    }
    const queries: Array<Record<string, string>> = [
      { patient: 'p1' },
      { patient: 'p2' },
      { subject: 'Patient/p2' },
      { patient: 'p1,p2' },
    ];
    for (const query of queries) {
      const mine = ids((await own.repo.search(parseSearchRequest('Observation', query))) as unknown as Bundle).sort();
      expect({ query, ids: mine }).toEqual({ query, ids: await stockIds(stock, 'Observation', query) });
    }
    expect(
      ids((await own.repo.search(parseSearchRequest('Observation', { patient: 'p2' }))) as unknown as Bundle),
    ).toEqual(['Observation/o2']);
    own.repo.clear();
    expect((await own.repo.search(parseSearchRequest('Observation', { patient: 'p1' }))).entry).toBe(undefined);
  });
});
