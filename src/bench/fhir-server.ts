/**
 * The FHIR server of the benchmark's fallback scenario, run as its own child process (forked by
 * scripts/bench.mjs with an IPC channel) so its work is neither charged to the service process nor slowed
 * by the load generator. It holds one patient's record in memory and answers the service's queries:
 * read (`Type/id`) and search (`patient`/`subject`, `code`, `status`, `_sort=-…`, `_count` with `_offset`
 * paging and `next` links), requiring the bearer token the request carries.
 *
 * Why not src/fhir/memory-server.ts (@medplum/fhir-router): its search is a linear scan costing
 * ~1–2 s per Observation search over this record's ~360 Observations (measured), so one fallback call
 * would take 5–9 s and the benchmark would measure that server, not the service. This one answers each
 * search in well under a millisecond of work, so the fallback scenario measures the service's own
 * fallback path (template rendering, parallel fetches, paging, parsing).
 *
 * Protocol: the parent sends `{ type: 'start', seed: Bundle, token: string }`; the child answers
 * `{ type: 'ready', baseUrl }` or `{ type: 'error', message }`. It exits when the parent goes away.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Bundle, FhirResource, OperationOutcome } from 'fhir/r4';
import { searchRecord, searchset } from './fixtures';

interface StartMessage {
  type: 'start';
  seed: Bundle;
  token: string;
}

const FHIR_JSON = 'application/fhir+json';
const BASE_PATH = '/fhir';

const outcome = (code: string, diagnostics: string): OperationOutcome => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: code as 'invalid', diagnostics }],
});

/** The express app of a read/search-only FHIR API over `resources`. */
export function staticFhirApp(resources: FhirResource[], token: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const send = (res: express.Response, status: number, body: unknown) =>
    res.status(status).type(FHIR_JSON).send(JSON.stringify(body));

  app.get(`${BASE_PATH}/:type{/:id}`, (req, res) => {
    if (req.get('authorization') !== `Bearer ${token}`) {
      send(res, 401, outcome('login', 'Authentication required'));
      return;
    }
    const type = String(req.params.type);
    const id = req.params.id === undefined ? undefined : String(req.params.id);
    if (id !== undefined) {
      const found = resources.find((r) => r.resourceType === type && r.id === id);
      if (found) send(res, 200, found);
      else send(res, 404, outcome('not-found', `${type}/${id} is not known`));
      return;
    }
    const query = new URL(req.originalUrl, 'http://x').searchParams;
    const all = searchRecord(resources, type, query);
    const offset = Math.max(0, Number(query.get('_offset') ?? '0') || 0);
    const count = Math.max(1, Number(query.get('_count') ?? String(all.length || 1)) || all.length || 1);
    const base = `${req.protocol}://${req.get('host') ?? ''}${BASE_PATH}`;
    const bundle = searchset(all.slice(offset, offset + count), base);
    bundle.total = all.length;
    const self = new URLSearchParams(query);
    bundle.link = [{ relation: 'self', url: `${base}/${type}?${self.toString()}` }];
    if (offset + count < all.length) {
      self.set('_offset', String(offset + count));
      bundle.link.push({ relation: 'next', url: `${base}/${type}?${self.toString()}` });
    }
    send(res, 200, bundle);
  });
  app.use((_req, res) => send(res, 404, outcome('not-supported', 'Only read and search are served')));
  return app;
}

function reply(message: Record<string, unknown>): void {
  process.send?.(message);
}

/** Runs as a forked child: waits for the parent's start message. */
function serveForParent(): void {
  process.on('message', (message: StartMessage) => {
    if (message?.type !== 'start') return;
    const resources = (message.seed.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    const server = staticFhirApp(resources, message.token).listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      reply({ type: 'ready', baseUrl: `http://127.0.0.1:${port}${BASE_PATH}` });
    });
    // undici keeps connections alive ~4 s: a shorter server timeout races it into ECONNRESET.
    server.keepAliveTimeout = 30_000;
    server.headersTimeout = 31_000;
    server.on('error', (err) => reply({ type: 'error', message: err.message }));
  });
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) serveForParent();
