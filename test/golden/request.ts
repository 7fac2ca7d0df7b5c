/**
 * Builds a golden CDS Hooks request the way an EHR would: the chart as it stood at the scenario time
 * (recordAt) is loaded into an in-memory FHIR server, every prefetch template of the service definition
 * (cds-hooks/services/*.json) is rendered against the context and read from that server, and the
 * searchset Bundles are kept as the server sent them, with the server's volatile parts (random port,
 * versionId, lastUpdated) replaced by stable values so the files do not change from one generation to
 * the next.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Bundle, FhirResource } from 'fhir/r4';
import { fillPrefetch, type HookContext } from '../../src/cli/ehr';
import { startMemoryFhirServer } from '../../src/fhir/memory-server';
import { loadDefinitions } from '../../src/service/definitions';
import { loadExample, recordAt } from '../replay/record';
import type { HookName } from '../../src/contract/cds-hooks';
import type { Scenario } from './scenarios';

export const GOLDEN_DIR = path.resolve(__dirname, '../fixtures/golden');
/** The base URL the golden EHR's FHIR server is said to have (never called: fhirServer is absent). */
const EHR_FHIR_BASE = 'https://ehr.example.org/fhir';
const GOLDEN_USER = 'Practitioner/golden-neurologist';

export const SERVICE_IDS: Record<HookName, string> = {
  'patient-view': 'ketamine-protocol-patient-view',
  'order-select': 'ketamine-protocol-order-select',
  'order-sign': 'ketamine-protocol-order-sign',
};

/** What a golden request file holds: the CDS Hooks request plus the pinned time and the story. */
export interface GoldenRequest {
  'x-golden-now': string;
  'x-golden-story': string;
  hook: HookName;
  hookInstance: string;
  context: HookContext;
  prefetch: Record<string, FhirResource | null>;
}

/** The prefetch templates of the hook's service, as discovery lists them (cds-hooks/, loaded by the service's loader). */
export function prefetchTemplates(hook: HookName): Record<string, string> {
  const definition = loadDefinitions().get(SERVICE_IDS[hook]);
  if (definition?.hook !== hook) throw new Error(`${SERVICE_IDS[hook]} is not the service of hook ${hook}`);
  return { ...definition.prefetch };
}

/** A stable, v4-shaped uuid derived from a name (the same scenario always gets the same hookInstance). */
function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Replace the server's base URL everywhere and drop the per-load meta (versionId, lastUpdated) and Bundle ids. */
function stabilize(value: unknown, serverBase: string): unknown {
  if (typeof value === 'string') return value.split(serverBase).join(EHR_FHIR_BASE);
  if (Array.isArray(value)) return value.map((v) => stabilize(v, serverBase));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const obj = value as Record<string, unknown>;
  for (const [key, v] of Object.entries(obj)) {
    if (key === 'meta' && typeof v === 'object' && v !== null) {
      const { versionId: _v, lastUpdated: _l, ...rest } = v as Record<string, unknown>;
      const meta = stabilize(rest, serverBase) as Record<string, unknown>;
      if (Object.keys(meta).length > 0) out.meta = meta;
      continue;
    }
    if (key === 'id' && obj.resourceType === 'Bundle') continue;
    out[key] = stabilize(v, serverBase);
  }
  return out;
}

/** Searchset entries carry their absolute URL on the EHR's server, as FHIR servers send them. */
function withFullUrls(bundle: Bundle): void {
  bundle.entry = (bundle.entry ?? []).map(({ fullUrl: _f, ...entry }) =>
    entry.resource?.id
      ? { fullUrl: `${EHR_FHIR_BASE}/${entry.resource.resourceType}/${entry.resource.id}`, ...entry }
      : entry,
  );
}

export async function buildRequest(scenario: Scenario): Promise<GoldenRequest> {
  const atMs = Date.parse(scenario.at);
  if (Number.isNaN(atMs)) throw new Error(`${scenario.stem}: bad time ${scenario.at}`);
  const asOf = recordAt(loadExample(scenario.example), atMs);
  const record = scenario.edit ? scenario.edit(asOf) : asOf;

  const context: HookContext = {
    userId: GOLDEN_USER,
    patientId: scenario.patientId,
    encounterId: scenario.encounterId,
  };
  if (scenario.hook !== 'patient-view') {
    const drafts = scenario.draftOrders ?? [];
    context.draftOrders = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: drafts.map((resource) => ({ resource })),
    };
    if (scenario.hook === 'order-select')
      context.selections = drafts
        .filter((d) => d.resourceType === 'MedicationRequest')
        .map((d) => `MedicationRequest/${d.id ?? ''}`);
  }

  const server = await startMemoryFhirServer({ seed: [record] });
  let prefetch: Record<string, FhirResource | null>;
  try {
    prefetch = await fillPrefetch(prefetchTemplates(scenario.hook), server.baseUrl, context);
    prefetch = stabilize(prefetch, server.baseUrl) as Record<string, FhirResource | null>;
    for (const value of Object.values(prefetch)) if (value?.resourceType === 'Bundle') withFullUrls(value);
  } finally {
    await server.close();
  }
  return {
    'x-golden-now': scenario.at,
    'x-golden-story': scenario.story,
    hook: scenario.hook,
    hookInstance: nameUuid(scenario.stem),
    context,
    prefetch,
  };
}
