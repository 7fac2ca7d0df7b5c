/**
 * The record as an EHR held it at a past scenario time (`--now`, the demo page's clock): what happened
 * later is left out, and an administration or encounter that ended later is shown as still running.
 * Scenario bundles hold a whole admission; a real EHR never has data from after "now".
 */
import type { FhirResource } from 'fhir/r4';

type Timed = Record<string, unknown> & { resourceType: string };

const first = (...values: unknown[]): string | undefined => values.find((v): v is string => typeof v === 'string');

/** When the resource happened (its clinical start), in epoch ms; null for timeless resources. */
export function clinicalStart(resource: FhirResource): number | null {
  const r = resource as unknown as Timed;
  const period = (key: string) => (r[key] as { start?: string } | undefined)?.start;
  const iso = first(
    period('effectivePeriod'),
    r.effectiveDateTime,
    r.effectiveInstant,
    r.onsetDateTime,
    period('onsetPeriod'),
    r.recordedDate,
    r.date,
    r.authoredOn,
    period('period'),
    r.issued,
    r.dateTime,
  );
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

function endedLater(period: unknown, nowMs: number): boolean {
  const end = (period as { end?: string } | undefined)?.end;
  return end !== undefined && Date.parse(end) > nowMs;
}

/** The resource as of `nowMs`, or null when it happened later. */
export function asOf<T extends FhirResource>(resource: T, nowMs: number): T | null {
  const start = clinicalStart(resource);
  if (start !== null && start > nowMs) return null;
  if (resource.resourceType === 'MedicationAdministration' && endedLater(resource.effectivePeriod, nowMs)) {
    const { end: _end, ...period } = resource.effectivePeriod ?? {};
    return { ...resource, status: 'in-progress', effectivePeriod: period };
  }
  if (resource.resourceType === 'Encounter' && endedLater(resource.period, nowMs)) {
    const { end: _end, ...period } = resource.period ?? {};
    return { ...resource, status: 'in-progress', period };
  }
  return resource;
}

/** A prefetch value (a searchset or one resource) as of `nowMs`. */
export function prefetchAsOf(value: FhirResource | null, nowMs: number): FhirResource | null {
  if (!value) return value;
  if (value.resourceType !== 'Bundle') return asOf(value, nowMs);
  const entry = (value.entry ?? []).flatMap((e) => {
    if (!e.resource) return [e];
    const r = asOf(e.resource, nowMs);
    return r ? [{ ...e, resource: r }] : [];
  });
  return { ...value, entry, ...(typeof value.total === 'number' ? { total: entry.length } : {}) };
}
