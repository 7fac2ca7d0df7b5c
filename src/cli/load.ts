/**
 * `ketamine-cds load`: upload the example scenarios to a FHIR server, one transaction per bundle.
 * The bundles use PUT entries with fixed ids, so loading twice leaves the same records.
 */
import type { Bundle } from 'fhir/r4';
import { asTransaction, patientIdOf, readBundle, readManifest } from './examples';
import { examplesDir } from '../config/paths';

import { CliError, type FetchLike, httpRequest, outcomeText } from './http';

const examplesDirOr = (dir?: string): string => dir ?? examplesDir();

export interface LoadedExample {
  file: string;
  patientId: string;
  title: string;
  entries: number;
}

export interface LoadOptions {
  dir?: string;
  fetch?: FetchLike;
  /** Progress lines. */
  log?: (line: string) => void;
}

export async function loadExamples(fhirBase: string, options: LoadOptions = {}): Promise<LoadedExample[]> {
  const dir = examplesDirOr(options.dir);
  const manifest = readManifest(dir);
  if (manifest.length === 0) throw new CliError(`No example bundles found in ${dir}`);
  const log = options.log ?? (() => undefined);
  const base = fhirBase.replace(/\/+$/, '');
  const loaded: LoadedExample[] = [];
  for (const [i, entry] of manifest.entries()) {
    const bundle = asTransaction(readBundle(dir, entry.file));
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
      throw new CliError(`The FHIR server refused ${entry.file} (HTTP ${res.status})${detail ? `: ${detail}` : ''}`);
    }
    const failed = ((res.json as Bundle | undefined)?.entry ?? [])
      .map((e, n) => ({ n, status: e.response?.status ?? '' }))
      .filter((e) => e.status && !/^2\d\d/.test(e.status));
    if (failed.length > 0) {
      throw new CliError(
        `${entry.file}: ${failed.length} entries failed (${failed
          .slice(0, 3)
          .map((f) => `#${f.n} ${f.status}`)
          .join(', ')})`,
      );
    }
    const entries = bundle.entry?.length ?? 0;
    log(
      `[${i + 1}/${manifest.length}] Patient/${patientId || '?'}  ${entry.title}  (${entry.file}, ${entries} resources)`,
    );
    loaded.push({ file: entry.file, patientId, title: entry.title, entries });
  }
  return loaded;
}
