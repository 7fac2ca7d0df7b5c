/**
 * Test helpers for the replays: an example bundle as it stood at a time T (a chart never shows the
 * future), and the pain assessments of a bundle.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, FhirResource, MedicationAdministration, Observation } from 'fhir/r4';

export const EXAMPLES_DIR = path.resolve(__dirname, '../../fhir-resources/examples');

export function loadExample(file: string): Bundle {
  return JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Bundle;
}

/** 'h:mm' / '-h:mm' from `start` → ISO time (UTC, no milliseconds, as the examples chart it). */
export function offsetToIso(start: string, offset: string): string {
  const m = /^(-?)(\d+):([0-5]\d)$/.exec(offset);
  if (!m) throw new Error(`bad offset "${offset}"`);
  const minutes = (Number(m[2]) * 60 + Number(m[3])) * (m[1] === '-' ? -1 : 1);
  return new Date(Date.parse(start) + minutes * 60_000).toISOString().replace('.000Z', 'Z');
}

/** The same instant, whatever offset notation it was written in ('Z' or '+00:00'), as a comparable string. */
export const instant = (iso: string | null | undefined): string | null =>
  iso === null || iso === undefined || Number.isNaN(Date.parse(iso)) ? (iso ?? null) : new Date(iso).toISOString();

/** When a resource entered the chart (null: timeless, e.g. Patient, Medication). */
export function chartedAt(resource: FhirResource): string | null {
  const r = resource as unknown as Record<string, unknown> & {
    effectivePeriod?: { start?: string };
    period?: { start?: string };
  };
  switch (resource.resourceType) {
    case 'Observation':
    case 'DiagnosticReport':
      return (
        (r.effectiveDateTime as string | undefined) ??
        r.effectivePeriod?.start ??
        (r.effectiveInstant as string | undefined) ??
        (r.issued as string | undefined) ??
        null
      );
    case 'MedicationAdministration':
      return (r.effectiveDateTime as string | undefined) ?? r.effectivePeriod?.start ?? null;
    case 'MedicationRequest':
      return (r.authoredOn as string | undefined) ?? null;
    case 'Condition':
      return (r.recordedDate as string | undefined) ?? (r.onsetDateTime as string | undefined) ?? null;
    case 'AdverseEvent':
      return (r.date as string | undefined) ?? (r.recordedDate as string | undefined) ?? null;
    case 'Consent':
      return (r.dateTime as string | undefined) ?? null;
    case 'Encounter':
      return r.period?.start ?? null;
    default:
      return null;
  }
}

/**
 * The record as it stood at `atMs`: resources charted after it are removed, and an administration
 * whose end (the next rate change or the stop) is after it is still running (in-progress, open).
 * The input bundle is not changed.
 */
export function recordAt(bundle: Bundle, atMs: number): Bundle {
  const entry: BundleEntry[] = [];
  for (const e of bundle.entry ?? []) {
    const resource = e.resource;
    if (!resource) continue;
    const time = chartedAt(resource);
    if (time !== null && Date.parse(time) > atMs) continue;
    if (resource.resourceType === 'MedicationAdministration') {
      const end = resource.effectivePeriod?.end;
      if (end !== undefined && Date.parse(end) > atMs) {
        const open: MedicationAdministration = structuredClone(resource);
        open.status = 'in-progress';
        delete open.effectivePeriod?.end;
        entry.push({ ...e, resource: open });
        continue;
      }
    }
    entry.push(e);
  }
  return { ...bundle, entry };
}

const PAIN_CODES = ['72514-3', '38214-3', '38208-5'];

export interface PainAssessment {
  time: string;
  /** As charted (valueQuantity.value or valueInteger; a VAS in mm as its mm value). */
  value: number;
}

/** Pain score Observations of a bundle, oldest first. */
export function painAssessments(bundle: Bundle): PainAssessment[] {
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Observation => r?.resourceType === 'Observation')
    .filter((o) => o.code.coding?.some((c) => c.system === 'http://loinc.org' && PAIN_CODES.includes(c.code ?? '')))
    .map((o) => ({ time: o.effectiveDateTime ?? '', value: o.valueQuantity?.value ?? o.valueInteger ?? Number.NaN }))
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
}
