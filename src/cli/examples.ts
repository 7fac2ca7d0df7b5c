/**
 * The example scenarios of fhir-resources/examples: an index.json manifest and one transaction Bundle
 * (PUT entries, so loading twice is idempotent) per patient. Shared by `ketamine-cds load` and the demo.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';

export interface ScenarioTime {
  at: string;
  label: string;
  expectedRuleId?: string;
}

export interface ExampleEntry {
  file: string;
  patientId: string;
  title: string;
  description?: string;
  kind?: string;
  /** The admission the scenario happens in (the hook context's encounterId). */
  encounterId?: string;
  admission?: unknown;
  /** When the infusion starts on the example's timeline (absent when it never starts). */
  infusionStart?: string | null;
  scenarioTimes?: ScenarioTime[];
}

const MANIFEST_FILE = 'index.json';

/** The manifest; without an index.json, every *.json bundle in the folder (titled by its file name). */
export function readManifest(dir: string): ExampleEntry[] {
  const manifest = path.join(dir, MANIFEST_FILE);
  if (existsSync(manifest)) {
    const data = JSON.parse(readFileSync(manifest, 'utf8')) as unknown;
    const list = Array.isArray(data) ? data : (data as { examples?: unknown }).examples;
    if (!Array.isArray(list)) throw new Error(`${manifest}: expected a JSON array of examples`);
    return list.map((item, i) => {
      const entry = item as Partial<ExampleEntry>;
      if (typeof entry.file !== 'string') throw new Error(`${manifest}[${i}]: "file" is missing`);
      return {
        ...entry,
        file: entry.file,
        patientId: entry.patientId ?? '',
        title: entry.title ?? entry.file,
      } as ExampleEntry;
    });
  }
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, patientId: '', title: file.replace(/\.json$/, '') }));
}

export function readBundle(dir: string, file: string): Bundle {
  const bundle = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Bundle;
  if (bundle.resourceType !== 'Bundle') throw new Error(`${file}: not a FHIR Bundle`);
  return bundle;
}

/** The patient id a bundle holds, when the manifest does not say. */
export function patientIdOf(entry: ExampleEntry, bundle: Bundle): string {
  if (entry.patientId) return entry.patientId;
  const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource;
  return patient?.id ?? '';
}

/** A transaction Bundle as-is; a collection Bundle turned into PUT entries (idempotent). */
export function asTransaction(bundle: Bundle): Bundle {
  if (bundle.type === 'transaction') return bundle;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: (bundle.entry ?? []).flatMap((e) => {
      const r = e.resource;
      if (!r?.id) return [];
      return [
        { fullUrl: e.fullUrl, resource: r, request: { method: 'PUT' as const, url: `${r.resourceType}/${r.id}` } },
      ];
    }),
  };
}
