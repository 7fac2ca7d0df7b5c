/**
 * Public FHIR server realities for `load` and for the CLI's prefetch: absolute next links on another host
 * name, a refused _sort, a capped _count, client-assigned ids refused, data purged. Each is handled or
 * said plainly. The servers are the embedded FHIR server behind small express fronts that behave so.
 */
import express, { type RequestHandler } from 'express';
import type { Bundle, Observation } from 'fhir/r4';
import { createMemoryFhir, type MemoryFhir } from '../../src/fhir/memory-server'; // first: WebSocket shim
import { fillPrefetch, type HookContext } from '../../src/cli/ehr';
import { loadExamples } from '../../src/cli/load';
import { CliError } from '../../src/cli/http';
import { listen, type Running } from './support';

jest.setTimeout(60_000);

const CONTEXT: HookContext = { userId: 'Practitioner/x', patientId: 'case1-patient' };
const PAIN = 'Observation?patient={{context.patientId}}&code=http://loinc.org|38214-3&_sort=-date&_count=5';

const open: Running[] = [];
async function front(fhir: MemoryFhir, before: RequestHandler): Promise<Running & { base: string }> {
  const running = await listen(() => {
    const app = express();
    app.use('/fhir', before, fhir.router);
    return app;
  });
  open.push(running);
  return { ...running, base: `${running.origin}/fhir` };
}
// closed even when a test fails half-way
afterEach(async () => {
  for (const running of open.splice(0)) await running.close();
});

let fhir: MemoryFhir;
let reference: Observation[];
beforeAll(async () => {
  fhir = await createMemoryFhir();
  const plain = await front(fhir, (_req, _res, next) => next());
  await loadExamples(plain.base, { patients: ['case1-patient'] });
  const all = await fetch(`${plain.base}/Observation?patient=case1-patient&code=http://loinc.org|38214-3&_sort=-date`);
  reference = ((await all.json()) as Bundle).entry?.map((e) => e.resource as Observation) ?? [];
});

const ids = (value: unknown) => ((value as Bundle).entry ?? []).map((e) => e.resource?.id);

describe('the CLI filling prefetch from a public FHIR server', () => {
  it('when the next links name another host (a server behind a proxy), it follows them on the base given, and says so', async () => {
    const server = await front(fhir, (req, _res, next) => {
      req.headers.host = 'internal.example:8080'; // the server writes its own host into absolute links
      next();
    });
    const warnings: string[] = [];
    const prefetch = await fillPrefetch(
      { pain: 'Observation?patient={{context.patientId}}&code=http://loinc.org|38214-3&_sort=-date&_count=4' },
      server.base,
      CONTEXT,
      { warn: (l) => warnings.push(l) },
    );
    expect(ids(prefetch.pain)).toEqual(reference.map((o) => o.id));
    expect(warnings.join('\n')).toContain('next link points at http://internal.example:8080');
  });

  it('when the server refuses _sort, it reads without it, sorts by clinical time here, and says so', async () => {
    const server = await front(fhir, (req, res, next) => {
      if ('_sort' in req.query) {
        res.status(400).json({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'not-supported', diagnostics: 'Sorting is not supported' }],
        });
        return;
      }
      next();
    });
    const warnings: string[] = [];
    const prefetch = await fillPrefetch({ pain: PAIN }, server.base, CONTEXT, { warn: (l) => warnings.push(l) });
    expect(ids(prefetch.pain)).toEqual(reference.map((o) => o.id));
    expect(warnings.join('\n')).toMatch(/refused _sort=-date \(400: Sorting is not supported\)/);
  });

  it('when the server ignores _sort (200, another order), it reads without it, sorts here, and says so', async () => {
    const server = await front(fhir, (req, _res, next) => {
      req.url = req.url.replace(/&?_sort=[^&]*/, ''); // answers as if _sort were not there
      next();
    });
    const warnings: string[] = [];
    const prefetch = await fillPrefetch({ pain: PAIN }, server.base, CONTEXT, { warn: (l) => warnings.push(l) });
    expect(ids(prefetch.pain)).toEqual(reference.map((o) => o.id));
    expect(warnings.join('\n')).toContain('ignored _sort=-date');
  });

  it('when the server sorts as asked (5 a page), it follows the pages, and nothing is said', async () => {
    const server = await front(fhir, (_req, _res, next) => next());
    const warnings: string[] = [];
    const prefetch = await fillPrefetch({ pain: PAIN }, server.base, CONTEXT, { warn: (l) => warnings.push(l) });
    expect(ids(prefetch.pain)).toEqual(reference.map((o) => o.id));
    expect(warnings).toEqual([]);
  });

  it('when the server caps _count and gives no next link, it says how much of what is missing', async () => {
    const server = await front(fhir, (req, res, next) => {
      req.url = req.url.replace(/_count=\d+/, '_count=2');
      const send = res.send.bind(res);
      res.send = ((body: unknown) => {
        if (typeof body !== 'string') return send(body);
        const bundle = JSON.parse(body) as Bundle;
        bundle.link = bundle.link?.filter((l) => l.relation !== 'next');
        return send(JSON.stringify(bundle));
      }) as typeof res.send;
      next();
    });
    const warnings: string[] = [];
    await fillPrefetch(
      { pain: 'Observation?patient={{context.patientId}}&code=http://loinc.org|38214-3&_count=200' },
      server.base,
      CONTEXT,
      { warn: (l) => warnings.push(l) },
    );
    expect(warnings).toEqual([
      `prefetch "pain": the FHIR server returned 2 of ${reference.length} matches (asked for 200: it caps _count) and no next link to the rest.`,
    ]);
  });
});

describe('ketamine-cds load on a public FHIR server', () => {
  it('when the server refuses client-assigned ids, the error names the entry and says what it means', async () => {
    const server = await front(fhir, (req, res, next) => {
      if (req.method === 'POST' && req.path === '/') {
        res.status(400).json({
          resourceType: 'OperationOutcome',
          issue: [
            {
              severity: 'error',
              code: 'processing',
              diagnostics:
                'HAPI-0960: Can not create resource with ID[case1-patient], no resource with this ID exists and clients may only assign IDs which contain at least one non-numeric character',
            },
          ],
        });
        return;
      }
      next();
    });
    const error = await loadExamples(server.base, { patients: ['case1-patient'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toMatch(
      /refused case1-chronic-migraine-mg-per-hour\.json \(HTTP 400\): HAPI-0960/,
    );
    expect((error as Error).message).toContain('does not accept client-assigned ids');
  });

  it('when single entries of the transaction fail, the error lists them with the server’s reasons', async () => {
    const server = await front(fhir, (req, res, next) => {
      if (req.method === 'POST' && req.path === '/') {
        res.status(200).json({
          resourceType: 'Bundle',
          type: 'transaction-response',
          entry: [
            { response: { status: '201 Created' } },
            {
              response: {
                status: '422 Unprocessable Entity',
                outcome: {
                  resourceType: 'OperationOutcome',
                  issue: [{ severity: 'error', code: 'invalid', diagnostics: 'Unknown code system' }],
                },
              },
            },
          ],
        });
        return;
      }
      next();
    });
    const error = await loadExamples(server.base, { patients: ['case1-patient'] }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /refused 1 entries \(#1 PUT \w+\/[\w-]+: 422 Unprocessable Entity Unknown code system\)/,
    );
  });
});
