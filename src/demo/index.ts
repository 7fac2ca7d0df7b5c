/**
 * "Try it in five minutes": the embedded demo. In the service's own process (unless DEMO=off) it serves
 *   /fhir          an in-memory FHIR R4 server seeded with fhir-resources/examples (CapabilityStatement at /fhir/metadata)
 *   /              the sandbox page (src/demo/public/): a mini EHR that calls the CDS service exactly as an EHR would
 *   /demo/api/*    read-only helpers for the page (examples manifest, protocol parameters, value sets) and a data reset
 *   /vendor/*      Chart.js, marked and DOMPurify from node_modules (no CDN)
 * The CDS service treats /fhir as any EHR's FHIR server: the page sends `fhirServer` and prefetch.
 */
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Bundle } from 'fhir/r4';
import { loadParameters } from '../config/parameters';
import type { Logger } from '../log';
import { createMemoryFhir, type MemoryFhir } from '../fhir/memory-server';
import { asTransaction, type ExampleEntry, patientIdOf, readBundle, readManifest } from '../cli/examples';
import { parseMoment, placeExample } from '../cli/timeline';
import { examplesDir, packageRoot } from '../config/paths';
import { loadTerminology } from '../terminology';
import { DEMO_NOW_HEADER } from './clock';

export interface DemoOptions {
  /** Where the example bundles are (default fhir-resources/examples). */
  examplesDir?: string;
  /** The page's static files (default src/demo/public/). */
  publicDir?: string;
  /** Path of the CDS services, as the page must call them (default /cds-services). */
  cdsPath?: string;
  /** Path of the FHIR server (default /fhir). */
  fhirPath?: string;
  logger?: Logger;
  /** IANA time zone the page shows every time in (the service's CDS_TIME_ZONE; default UTC). */
  timeZone?: string;
  /**
   * Where "now" falls in each example's admission at start-up and on reset (cli/timeline.ts moments:
   * work-up, titration, target, taper, done, …; default titration, an example without it at its first
   * scenario time). Each whole admission is moved by one offset: the case then plays out in real time.
   */
  at?: string;
  /** The clock for `at` (epoch ms; default Date.now). */
  now?: () => number;
}

/** The moment the demo's examples are live at when start-up does not say. */
const DEMO_DEFAULT_MOMENT = 'titration';

export interface Demo {
  /** Mount at the app's root, before its not-found handler. */
  router: Router;
  fhir: MemoryFhir;
  examples: ExampleEntry[];
  /** Empty the FHIR server and load the examples again (moved again so that now is at the same moment). */
  reset(): Promise<void>;
}

/** Files the page loads from node_modules: URL name → package-relative file. */
const VENDOR_FILES: Record<string, { pkg: string; file: string }> = {
  'chart.umd.min.js': { pkg: 'chart.js', file: 'dist/chart.umd.min.js' },
  'marked.umd.js': { pkg: 'marked', file: 'lib/marked.umd.js' },
  'purify.min.js': { pkg: 'dompurify', file: 'dist/purify.min.js' },
};

/** The page is static and same-origin: no inline script, no framing, fetches to this origin only. */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

function packageDir(pkg: string, root: string): string {
  return path.join(root, 'node_modules', pkg);
}

/** The examples with their patient ids filled in, and the bundles to seed, moved so that now is at `at`. */
function readExamples(
  dir: string,
  at: string,
  nowMs: number,
  sustainedHours: number,
): { examples: ExampleEntry[]; bundles: Bundle[] } {
  const moment = parseMoment(at);
  const manifest = readManifest(dir);
  const bundles: Bundle[] = [];
  const examples = manifest.map((original) => {
    const bundle = asTransaction(readBundle(dir, original.file));
    const entry = { ...original, patientId: patientIdOf(original, bundle) };
    const hasTimeline = (entry.scenarioTimes?.length ?? 0) > 0 || typeof entry.admission === 'string';
    if (!hasTimeline) {
      bundles.push(bundle);
      return entry;
    }
    const placed = placeExample(entry, bundle, moment, nowMs, sustainedHours);
    bundles.push(placed.bundle);
    return placed.entry;
  });
  return { examples, bundles };
}

export async function createDemo(options: DemoOptions = {}): Promise<Demo> {
  const root = packageRoot();
  const { file: parameterFile, values } = loadParameters(path.join(root, 'cds-hooks', 'protocol-parameters.json'));
  const at = options.at ?? DEMO_DEFAULT_MOMENT;
  const clock = options.now ?? Date.now;
  const dir = options.examplesDir ?? examplesDir();
  const seeded = readExamples(dir, at, clock(), values.sustainedHours);
  /** The manifest as the page gets it: the times moved with the bundles (same array, refilled on reset). */
  const examples = seeded.examples;
  const fhir = await createMemoryFhir({ seed: seeded.bundles });
  const publicDir = options.publicDir ?? path.join(root, 'src', 'demo', 'public');
  const fhirPath = options.fhirPath ?? '/fhir';
  const cdsPath = options.cdsPath ?? '/cds-services';
  options.logger?.info({ examples: examples.length, fhirPath, at }, 'demo: FHIR server seeded with the examples');

  const reset = async () => {
    const again = readExamples(dir, at, clock(), values.sustainedHours);
    fhir.repo.clear();
    for (const bundle of again.bundles) await fhir.load(bundle);
    examples.splice(0, examples.length, ...again.examples);
  };

  const router = express.Router();
  // Searches such as Observation?patient=<id> are fast in the in-memory server itself (memory-server.ts).
  router.use(fhirPath, fhir.router);

  const api = express.Router();
  api.get('/config', (_req, res) => {
    res.json({ fhirPath, cdsPath, demoNowHeader: DEMO_NOW_HEADER, timeZone: options.timeZone ?? 'UTC' });
  });
  // The codes the page recognises and charts: the service's value sets (the page holds none of its own).
  const terminology = loadTerminology();
  const valueSets = Object.fromEntries(
    [...terminology.valueSets].map(([id, vs]) => [
      id,
      (vs.expansion?.contains ?? []).map(({ system, code, display }) => ({ system, code, display })),
    ]),
  );
  api.get('/value-sets', (_req, res) => {
    res.json(valueSets);
  });
  api.get('/examples', (_req, res) => {
    res.json(examples);
  });
  api.get('/parameters', (_req, res) => {
    res.json({
      values,
      title: parameterFile.title,
      citation: parameterFile.citation,
      evidenceLevel: parameterFile.evidenceLevel,
    });
  });
  api.post('/reset', async (_req, res, next) => {
    try {
      await reset();
      options.logger?.info('demo: FHIR server reset to the examples');
      res.json({ reset: true, patients: examples.map((e) => e.patientId) });
    } catch (err) {
      next(err);
    }
  });
  router.use('/demo/api', api);

  router.get('/vendor/:file', (req: Request, res: Response, next: NextFunction) => {
    const vendor = VENDOR_FILES[String(req.params.file)];
    if (!vendor) {
      next();
      return;
    }
    res.type('application/javascript');
    res.sendFile(path.join(packageDir(vendor.pkg, root), vendor.file), { maxAge: '1h' }, (err) => {
      if (err) next(err);
    });
  });

  const page = express.Router();
  page.use((_req, res, next) => {
    res.set('Content-Security-Policy', PAGE_CSP);
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('Referrer-Policy', 'no-referrer');
    next();
  });
  page.use(express.static(publicDir, { index: 'index.html', maxAge: 0 }));
  router.use(page);

  return { router, fhir, examples, reset };
}

/**
 * Whether the demo runs: DEMO=on/off decides; unset, it runs except with NODE_ENV=production (a production
 * deployment never serves the writable demo FHIR server by accident).
 */
export function demoEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.DEMO ?? '').trim().toLowerCase();
  if (['off', 'false', '0', 'no'].includes(value)) return false;
  if (['on', 'true', '1', 'yes'].includes(value)) return true;
  return (env.NODE_ENV ?? '').trim().toLowerCase() !== 'production';
}

/** The FHIR base URLs the demo page sends as `fhirServer` for a service listening on `port`. */
export function demoFhirServerUrls(port: number, fhirPath = '/fhir'): string[] {
  return [`http://localhost:${port}${fhirPath}`, `http://127.0.0.1:${port}${fhirPath}`];
}
