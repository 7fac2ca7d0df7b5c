/**
 * `ketamine-cds load`: upload the example scenarios to a FHIR server, one transaction per bundle.
 * The bundles use PUT entries with fixed ids, so loading twice leaves the same records.
 *
 * With `--at <moment>` (timeline.ts) each example's timeline is first moved so that now falls at that
 * moment of its admission, and the record is loaded as the EHR holds it then: what happens later in the
 * example is not loaded (and is deleted, should an earlier load have put it there), an administration or
 * encounter still running is in progress. Loading the same moment again within the minute changes nothing.
 */
import type { Bundle, BundleEntry, FhirResource } from 'fhir/r4';
import { asTransaction, type ExampleEntry, patientIdOf, readBundle, readManifest } from './examples';
import { examplesDir } from '../config/paths';
import { loadParameters } from '../config/parameters';
import { asOf } from './as-of';
import { type Moment, placeExample, type ResolvedMoment } from './timeline';

import { CliError, type FetchLike, httpRequest, outcomeText } from './http';

const examplesDirOr = (dir?: string): string => dir ?? examplesDir();

export interface LoadedExample {
  file: string;
  patientId: string;
  title: string;
  entries: number;
  /** With `at`: the moment now falls at, and the entry with its times moved. */
  moment?: ResolvedMoment;
  entry?: ExampleEntry;
}

export interface LoadOptions {
  dir?: string;
  fetch?: FetchLike;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Move each timeline so that now falls at this moment (timeline.ts), and load only what is charted by then. */
  at?: Moment;
  /** The clock (epoch ms) for `at`; default Date.now. */
  now?: () => number;
  /** Only these patients (ids from the manifest). */
  patients?: string[];
}

/**
 * The bundle as the EHR holds it at `nowMs`: resources charted later become DELETE entries (a previous
 * load at a later moment may have put them there), running administrations/encounters are in progress.
 */
function asHeldAt(bundle: Bundle, nowMs: number): Bundle {
  const entry: BundleEntry[] = (bundle.entry ?? []).map((e) => {
    const resource = e.resource as FhirResource | undefined;
    if (!resource) return e;
    const held = asOf(resource, nowMs);
    if (held) return { ...e, resource: held };
    return { request: { method: 'DELETE' as const, url: `${resource.resourceType}/${resource.id ?? ''}` } };
  });
  return { ...bundle, entry };
}

/** What a refusal most likely means on a public FHIR server, in words ('' when nothing is known). */
function refusalHint(status: number, detail: string): string {
  if (status === 405 || /client.{0,40}(assign|id)|ID\[|create.{0,40}with.{0,20}id/i.test(detail))
    return (
      '. The server does not accept client-assigned ids (PUT Patient/<id>): the examples keep their ids so that ' +
      'loading twice changes nothing; use a server that accepts them (HAPI FHIR does by default: ' +
      'hapi.fhir.org/baseR4, or a local one).'
    );
  if (status === 413) return '. The bundle is larger than the server accepts; load fewer patients with --patient.';
  if (status === 401 || status === 403) return '. The server needs authorization; `load` sends none.';
  return '';
}

export async function loadExamples(fhirBase: string, options: LoadOptions = {}): Promise<LoadedExample[]> {
  const dir = examplesDirOr(options.dir);
  const manifest = readManifest(dir);
  if (manifest.length === 0) throw new CliError(`No example bundles found in ${dir}`);
  const log = options.log ?? (() => undefined);
  const base = fhirBase.replace(/\/+$/, '');
  const loaded: LoadedExample[] = [];
  const chosen = options.patients ? manifest.filter((e) => options.patients?.includes(e.patientId)) : manifest;
  if (chosen.length === 0) throw new CliError(`No example has patient ${options.patients?.join(', ')}`);
  const sustainedHours = options.at ? loadParameters().values.sustainedHours : 0;
  const nowMs = (options.now ?? Date.now)();
  for (const [i, original] of chosen.entries()) {
    let bundle = asTransaction(readBundle(dir, original.file));
    let entry = original;
    let moment: ResolvedMoment | undefined;
    if (options.at) {
      const placed = placeExample(original, bundle, options.at, nowMs, sustainedHours);
      bundle = asHeldAt(placed.bundle, nowMs);
      entry = placed.entry;
      moment = placed.moment;
    }
    const patientId = patientIdOf(entry, bundle);
    const res = await httpRequest(
      'the FHIR server',
      base,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json', Accept: 'application/fhir+json' },
        body: JSON.stringify(bundle),
      },
      options.fetch ? { fetch: options.fetch } : {},
    );
    if (!res.ok) {
      const detail = outcomeText(res.json);
      throw new CliError(
        `The FHIR server refused ${entry.file} (HTTP ${res.status})${detail ? `: ${detail}` : ''}${refusalHint(res.status, detail)}`,
      );
    }
    const failed = ((res.json as Bundle | undefined)?.entry ?? [])
      .map((e, n) => ({
        n,
        status: e.response?.status ?? '',
        deleting: bundle.entry?.[n]?.request?.method === 'DELETE',
      }))
      // deleting what is not there (404/410) is what was wanted
      .filter((e) => e.status && !/^2\d\d/.test(e.status) && !(e.deleting && /^(404|410)/.test(e.status)));
    if (failed.length > 0) {
      const responses = (res.json as Bundle).entry ?? [];
      const detail = failed
        .slice(0, 3)
        .map((f) => {
          const why = outcomeText(responses[f.n]?.response?.outcome);
          return `#${f.n} ${bundle.entry?.[f.n]?.request?.method ?? ''} ${bundle.entry?.[f.n]?.request?.url ?? ''}: ${f.status}${why ? ` ${why}` : ''}`;
        })
        .join('; ');
      throw new CliError(
        `${entry.file}: the FHIR server refused ${failed.length} entries (${detail})${refusalHint(Number.parseInt(failed[0]?.status ?? '', 10), detail)}`,
      );
    }
    const entries = (bundle.entry ?? []).filter((e) => e.resource).length;
    const when = moment
      ? `; now: ${moment.label}${moment.expectedRuleId ? ` (${moment.expectedRuleId})` : ''}${moment.fallback ? ` [${moment.fallback}]` : ''}`
      : '';
    log(
      `[${i + 1}/${chosen.length}] Patient/${patientId || '?'}  ${entry.title}  (${entry.file}, ${entries} resources${when})`,
    );
    loaded.push({
      file: entry.file,
      patientId,
      title: entry.title,
      entries,
      ...(moment ? { moment, entry } : {}),
    });
  }
  return loaded;
}
