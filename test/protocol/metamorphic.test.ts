/**
 * Metamorphic properties over random infusion histories (issue 13, contract v1.1): the recommendation
 * (rule id, action, recommended rate) must not change when the chart is written differently but says the
 * same thing: administrations reordered, a segment split in two of the same rate, zero-length
 * administrations added at a change, implausible values added beside the real ones (dated before the
 * latest real one), the same rates written in mg/kg/h, mg/h or mL/h with the bag's strength on the record,
 * and another patient's resources added to the record (this one at the record level: decide() never sees
 * them). On every base history the safety invariants are checked as well: no recommended rate above
 * hardMaxRate, no increase after an effect at or below the current rate or since the current segment
 * started, no start without its prerequisites.
 *
 * PROPERTY_RUNS (default 2000) sets the runs of each decision-level property; the six of them check
 * 6 × PROPERTY_RUNS base histories (≥ 10⁴ by default). PROPERTY_RUNS=20000 npx jest test/protocol/metamorphic
 * runs a larger search.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { Bundle, FhirResource } from 'fhir/r4';
import { createEvaluator } from '../../src/cql';
import { ownRecord } from '../../src/fhir/own-record';
import { decide, type DecisionContext } from '../../src/protocol/decide';
import type { AdministrationFact, ChartedRate, ClinicalFacts } from '../../src/protocol/facts';
import type { Recommendation } from '../../src/protocol/recommendation';
import { NOW, ketamine, params, qty } from './builders';
import {
  HARD_MAX,
  MIN,
  RATES,
  TOL,
  contextFor,
  history,
  oracle,
  place,
  toFacts,
  type History,
  type Placed,
} from './histories';

function propertyRuns(): number {
  const raw = process.env.PROPERTY_RUNS;
  if (raw === undefined || raw === '') return 2000;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`PROPERTY_RUNS must be a positive integer, got "${raw}"`);
  return n;
}
const RUNS = propertyRuns();
/** The record-level properties run the CQL evaluator (a few ms a call): fewer runs. */
const RECORD_RUNS = Math.max(20, Math.round(RUNS / 40));

/** What must not change. */
const verdict = (rec: Recommendation) => ({
  ruleId: rec.ruleId,
  action: rec.action,
  recommendedRate: rec.recommendedRate,
});

let basesChecked = 0;
const rulesSeen = new Set<string>();

/** decide() on a base history, with the safety invariants checked on its answer. */
function decideBase(hist: History, placed: Placed[], facts: ClinicalFacts): Recommendation {
  const rec = decide(facts, params, NOW, contextFor(hist));
  basesChecked += 1;
  rulesSeen.add(rec.ruleId);
  const o = oracle(hist, placed);
  if (rec.recommendedRate !== null) {
    expect(rec.recommendedRate).toBeGreaterThanOrEqual(0);
    expect(rec.recommendedRate).toBeLessThanOrEqual(HARD_MAX + TOL);
  }
  if (rec.action === 'increase') {
    expect(o.effectAtOrBelowCurrent).toBe(false);
    expect(o.effectSinceChange).toBe(false);
    expect(o.toleranceUnknown).toBe(false);
  }
  if (rec.action === 'start') {
    expect(o.prerequisitesMet).toBe(true);
    expect(o.contraindicated).toBe(false);
  }
  return rec;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const startMsOf = (a: AdministrationFact): number => Date.parse(a.start as string);
/** End of an administration's stretch: its end, or now while it is open. */
const endMsOf = (a: AdministrationFact): number => (a.end === null ? NOW.getTime() : Date.parse(a.end));

/** A permutation of `list` by sort keys (fast-check shrinks keys better than it shrinks permutations). */
function permute<T>(list: readonly T[], keys: readonly number[]): T[] {
  return list
    .map((item, i) => ({ item, key: keys[i % keys.length] ?? 0, i }))
    .sort((a, b) => a.key - b.key || b.i - a.i)
    .map((x) => x.item);
}

const keys = fc.array(fc.nat(), { minLength: 16, maxLength: 16 });

/** A rate as a chart might hold it at a zero-length administration: any unit, implausible, or none. */
const anyChartedRate: fc.Arbitrary<ChartedRate | null> = fc.oneof(
  fc.constantFrom(...RATES).map((r) => qty(r, 'mg/kg/h')),
  fc.constantFrom(...RATES).map((r) => qty(Math.round(r * 70 * 100) / 100, 'mL/h')),
  fc.constantFrom(...RATES).map((r) => qty(Math.round(r * 70 * 100) / 100, 'mg/h')),
  fc.constantFrom(qty(50, 'mg/kg/h'), qty(1e308, 'mg/kg/h'), qty(0.3, 'furlongs/h')),
  fc.constant(null),
);

/** A rate above maxPlausibleRate, in any unit (mg/h and mL/h at the 70 kg the histories chart). */
const implausibleRate: fc.Arbitrary<ChartedRate> = fc.constantFrom(
  qty(params.maxPlausibleRate + 0.01, 'mg/kg/h'),
  qty(50, 'mg/kg/h'),
  qty(1e308, 'mg/kg/h'),
  qty(1e6, 'mg/h'),
  qty(1e5, 'mL/h'),
);

describe('metamorphic properties of the recommendation over random infusion histories', () => {
  it('charting order never matters: the administrations in any order give the same recommendation', () => {
    fc.assert(
      fc.property(history, keys, (hist, k) => {
        const placed = place(hist);
        const facts = toFacts(hist, placed);
        const base = decideBase(hist, placed, facts);
        const shuffled = { ...facts, administrations: permute(facts.administrations, k) };
        expect(verdict(decide(shuffled, params, NOW, contextFor(hist)))).toEqual(verdict(base));
      }),
      { numRuns: RUNS },
    );
  });

  it('charting order never matters with corrections charted at the same start (same or other end, open, other rate)', () => {
    const correction = fc.record({
      which: fc.nat(),
      end: fc.constantFrom<'same' | 'open' | 'earlier' | 'later'>('same', 'open', 'earlier', 'later'),
      rate: anyChartedRate,
      status: fc.constantFrom('in-progress', 'completed'),
    });
    fc.assert(
      fc.property(history, fc.array(correction, { minLength: 1, maxLength: 3 }), keys, keys, (hist, fixes, k1, k2) => {
        const placed = place(hist);
        const facts = toFacts(hist, placed);
        decideBase(hist, placed, facts);
        if (facts.administrations.length === 0) return;
        const added = fixes.map((x, j): AdministrationFact => {
          const a = facts.administrations[x.which % facts.administrations.length] as AdministrationFact;
          const endMs = endMsOf(a);
          const end =
            x.end === 'open'
              ? null
              : x.end === 'same'
                ? a.end
                : iso(x.end === 'earlier' ? (startMsOf(a) + endMs) / 2 : endMs + 30 * MIN);
          return { ...a, id: `fix-${j}`, status: end === null ? 'in-progress' : x.status, end, rate: x.rate };
        });
        const all = [...facts.administrations, ...added];
        const one = decide({ ...facts, administrations: permute(all, k1) }, params, NOW, contextFor(hist));
        const other = decide({ ...facts, administrations: permute(all, k2) }, params, NOW, contextFor(hist));
        expect({ ...verdict(one), currentRate: one.currentRate }).toEqual({
          ...verdict(other),
          currentRate: other.currentRate,
        });
        expect(one.recommendedRate ?? 0).toBeLessThanOrEqual(HARD_MAX + TOL);
      }),
      { numRuns: RUNS },
    );
  });

  it('a segment split into two adjacent administrations of the same rate gives the same recommendation', () => {
    fc.assert(
      fc.property(history, fc.nat(), fc.double({ min: 0, max: 1, noNaN: true }), (hist, which, at) => {
        const placed = place(hist);
        const facts = toFacts(hist, placed);
        const base = decideBase(hist, placed, facts);
        if (facts.administrations.length === 0) return;
        const i = which % facts.administrations.length;
        const a = facts.administrations[i] as AdministrationFact;
        const lengthMin = Math.round((endMsOf(a) - startMsOf(a)) / MIN);
        if (lengthMin < 2) return;
        const splitMs = startMsOf(a) + (1 + Math.floor(at * (lengthMin - 2))) * MIN;
        const first: AdministrationFact = { ...a, id: `${a.id}-a`, end: iso(splitMs), status: 'completed' };
        const second: AdministrationFact = { ...a, id: `${a.id}-b`, start: iso(splitMs) };
        const split = {
          ...facts,
          administrations: [...facts.administrations.slice(0, i), first, second, ...facts.administrations.slice(i + 1)],
        };
        expect(verdict(decide(split, params, NOW, contextFor(hist)))).toEqual(verdict(base));
      }),
      { numRuns: RUNS },
    );
  });

  it('zero-length administrations (end = start) added at a change, whatever their rate, are never current and change nothing', () => {
    const zeroLength = fc.array(
      fc.record({
        at: fc.nat(),
        rate: anyChartedRate,
        open: fc.boolean(),
        status: fc.constantFrom('in-progress', 'completed'),
      }),
      { minLength: 1, maxLength: 3 },
    );
    fc.assert(
      fc.property(history, zeroLength, keys, (hist, extras, k) => {
        const placed = place(hist);
        const facts = toFacts(hist, placed);
        const base = decideBase(hist, placed, facts);
        // The changes: every start and every charted end.
        const changes = [
          ...new Set(facts.administrations.flatMap((a) => [a.start as string, ...(a.end ? [a.end] : [])])),
        ];
        if (changes.length === 0) return;
        const added: AdministrationFact[] = extras.map((x, j) => {
          const at = changes[x.at % changes.length] as string;
          return {
            id: `zero-${j}`,
            status: x.status,
            start: at,
            end: at,
            rate: x.rate,
            requestId: 'order-active',
            medication: ketamine(),
          };
        });
        const withZero = { ...facts, administrations: permute([...facts.administrations, ...added], k) };
        expect(verdict(decide(withZero, params, NOW, contextFor(hist)))).toEqual(verdict(base));
      }),
      { numRuns: RUNS },
    );
  });

  it('an administration at an implausible rate (above maxPlausibleRate) that ended before the current segment started changes nothing (an effect charted during it makes the max tolerated rate unknown)', () => {
    let checked = 0;
    let effectDuring = 0;
    fc.assert(
      fc.property(
        history,
        implausibleRate,
        fc.nat(),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.boolean(),
        (hist, rate, which, from, length, effectInside) => {
          const placed = place(hist);
          const facts = toFacts(hist, placed);
          const base = decideBase(hist, placed, facts);
          // Beside a real running rate, strictly inside an earlier administration, before the current segment.
          const currentFromMs = base.lastChangeAt === null ? Infinity : Date.parse(base.lastChangeAt);
          const hosts = facts.administrations.filter(
            (a, i) =>
              (placed[i] as Placed).rate > 0 &&
              a.end !== null &&
              Date.parse(a.end) <= currentFromMs &&
              endMsOf(a) - startMsOf(a) >= 3 * MIN,
          );
          if (hosts.length === 0) return;
          const host = hosts[which % hosts.length] as AdministrationFact;
          const spanMin = Math.round((endMsOf(host) - startMsOf(host)) / MIN);
          const startMin = 1 + Math.floor(from * (spanMin - 3));
          const endMin = startMin + 1 + Math.floor(length * (spanMin - 2 - startMin));
          const startMs = startMsOf(host) + startMin * MIN;
          const endMs = startMsOf(host) + endMin * MIN;
          const implausible: AdministrationFact = {
            id: 'implausible',
            status: 'completed',
            start: iso(startMs),
            end: iso(endMs),
            rate,
            requestId: 'order-active',
            medication: ketamine(),
          };
          const withImplausible = { ...facts, administrations: [...facts.administrations, implausible] };
          if (effectInside)
            facts.adverseEffects.push({
              resourceId: 'effect-during-implausible',
              resourceType: 'Observation',
              system: 'http://snomed.info/sct',
              code: '7011001',
              display: 'Hallucinations',
              time: iso(startMs + Math.floor(((endMs - startMs) * from) / MIN) * MIN),
              via: 'psychotomimetic-code',
            });
          const rec = decide(withImplausible, params, NOW, contextFor(hist));
          const before = effectInside ? decide(facts, params, NOW, contextFor(hist)) : base;
          // An effect charted while that rate ran: the max tolerated rate is unknown (T7), never computed from it.
          if (facts.adverseEffects.some((e) => e.time && Date.parse(e.time) >= startMs && Date.parse(e.time) < endMs)) {
            effectDuring += 1;
            expect(rec.action).not.toBe('increase');
            expect(rec.maxToleratedRateUnknown).toBe(true);
            if (rec.maxToleratedRate !== null)
              expect(rec.maxToleratedRate).toBeLessThanOrEqual(params.maxPlausibleRate);
            return;
          }
          checked += 1;
          expect(verdict(rec)).toEqual(verdict(before));
        },
      ),
      { numRuns: RUNS },
    );
    expect(checked).toBeGreaterThan(RUNS / 10); // the generator does reach the property
    expect(effectDuring).toBeGreaterThan(0);
  });

  it('D1 an implausible current rate (above maxPlausibleRate, any unit) is unreadable: needs-data, never a rate computed from it', () => {
    fc.assert(
      fc.property(history, implausibleRate, fc.integer({ min: 0, max: 29 }), (hist, rate, minutesAgo) => {
        const withMigraine = { ...hist, migraine: true };
        const placed = place(withMigraine);
        const facts = toFacts(withMigraine, placed);
        decideBase(withMigraine, placed, facts);
        const current: AdministrationFact = {
          id: 'implausible-current',
          status: 'in-progress',
          start: iso(NOW.getTime() - minutesAgo * MIN),
          end: null,
          rate,
          requestId: 'order-active',
          medication: ketamine(),
        };
        const rec = decide(
          { ...facts, administrations: [...facts.administrations, current] },
          params,
          NOW,
          contextFor(withMigraine),
        );
        expect(verdict(rec)).toEqual({ ruleId: 'D1', action: 'needs-data', recommendedRate: null });
        expect(rec.currentRate).toBeNull();
        expect(rec.arithmetic).toBeNull();
        expect(rec.missing.map((x) => x.code)).toContain('rate-unreadable');
      }),
      { numRuns: Math.max(100, Math.round(RUNS / 10)) },
    );
  });

  it('the same chart in mg/kg/h, mg/h and mL/h (the bag strength on the medication or on the order) gives the same recommendation', () => {
    const strength = fc.record({
      mgPerMl: fc.constantFrom(1, 2, 5, 10, 50),
      on: fc.constantFrom<'medication' | 'order'>('medication', 'order'),
    });
    fc.assert(
      fc.property(history, strength, (hist0, bag) => {
        // A weight on the record (mg/h and mL/h cannot be read without one); every step in mg/kg/h.
        const hist: History = {
          ...hist0,
          weightHours: hist0.weightHours ?? 0,
          steps: hist0.steps.map((s) => ({ ...s, unit: 'mg/kg/h' })),
        };
        const placed = place(hist);
        const written = (unit: 'mg/kg/h' | 'mg/h' | 'mL/h'): ClinicalFacts => {
          const facts = toFacts(hist, placed);
          if (bag.on === 'order')
            facts.orders.push({
              id: 'order-active',
              status: 'active',
              intent: 'order',
              authoredOn: iso(NOW.getTime() - 10 * 24 * 60 * MIN),
              rate: qty(params.startRate, 'mg/kg/h'),
              medication: ketamine({ concentrationMgPerMl: bag.mgPerMl }),
            });
          facts.administrations.forEach((a, i) => {
            const r = (placed[i] as Placed).rate;
            const weightKg = 70; // the weight toFacts charts
            if (bag.on === 'medication') a.medication = ketamine({ concentrationMgPerMl: bag.mgPerMl });
            a.rate =
              unit === 'mg/kg/h'
                ? qty(r, 'mg/kg/h')
                : unit === 'mg/h'
                  ? qty(Math.round(r * weightKg * 100) / 100, 'mg/h')
                  : qty(Math.round(((r * weightKg) / bag.mgPerMl) * 100) / 100, 'mL/h');
          });
          return facts;
        };
        const perKg = decideBase(hist, placed, written('mg/kg/h'));
        const ctx: DecisionContext = contextFor(hist);
        expect(verdict(decide(written('mg/h'), params, NOW, ctx))).toEqual(verdict(perKg));
        expect(verdict(decide(written('mL/h'), params, NOW, ctx))).toEqual(verdict(perKg));
      }),
      { numRuns: RUNS },
    );
  });

  it('covers at least 10⁴ random base histories at the default size, reaching every rule that acts on a chart', () => {
    expect(basesChecked).toBeGreaterThanOrEqual(6 * RUNS);
    if (RUNS >= 2000) expect(basesChecked).toBeGreaterThanOrEqual(10_000);
    for (const ruleId of [
      'P0',
      'S1',
      'S2',
      'S3',
      'X1',
      'A1',
      'A2',
      'A3',
      'D1',
      'V1',
      'T1',
      'T2',
      'T3',
      'T4',
      'T6',
      'T7',
      'T8',
    ])
      expect(rulesSeen).toContain(ruleId);
  });
});

// ---------------------------------------------------------------------------------------------
// At the record level: what decide() never sees (another patient's resources, an earlier implausible
// weight) is set aside or not chosen before CQL, so the facts themselves do not change.

const GOLDEN_DIR = path.resolve(__dirname, '../fixtures/golden');
interface Base {
  name: string;
  now: Date;
  patientId: string;
  resources: FhirResource[];
}
const BASES: Base[] = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith('.request.json'))
  .sort()
  .map((file) => {
    const body = JSON.parse(readFileSync(path.join(GOLDEN_DIR, file), 'utf8')) as {
      'x-golden-now': string;
      context: { patientId: string };
      prefetch: Record<string, FhirResource | null>;
    };
    const resources = Object.values(body.prefetch).flatMap((value): FhirResource[] => {
      if (value === null) return [];
      if (value.resourceType === 'Bundle') return (value.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
      return [value];
    });
    return { name: file, now: new Date(body['x-golden-now']), patientId: body.context.patientId, resources };
  });

const evaluator = createEvaluator();
const asBundle = (resources: FhirResource[]): Bundle => ({
  resourceType: 'Bundle',
  type: 'collection',
  entry: resources.map((resource) => ({ resource })),
});

async function factsOf(base: Base, resources: FhirResource[]): Promise<ClinicalFacts> {
  const own = ownRecord(resources, base.patientId);
  return evaluator.evaluate(asBundle(own.resources), base.now, 'patient-view');
}
const patientContext: DecisionContext = { hook: 'patient-view', encounterId: null, draftOrderIds: [] };

/** How another patient may be named: relative, absolute, versioned. */
const otherReference = fc.constantFrom(
  'Patient/someone-else',
  'https://ehr.example.org/fhir/Patient/someone-else',
  'Patient/someone-else/_history/3',
  'https://other.example.org/fhir/Patient/someone-else/_history/1',
);

/** Shift every dateTime-looking string of a resource by `hours` (the other patient's chart is newer). */
function shifted<T>(value: T, hours: number): T {
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) && !Number.isNaN(Date.parse(value)))
    return new Date(Date.parse(value) + hours * 3_600_000).toISOString() as T;
  if (Array.isArray(value)) return value.map((v) => shifted(v, hours)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shifted(v, hours)])) as T;
  return value;
}

/** Another patient's copy of a resource: its own id, a newer time, numbers changed, the other patient named. */
function othersCopy(resource: FhirResource, reference: string, hours: number, factor: number): FhirResource | null {
  const copy = shifted(structuredClone(resource), hours) as FhirResource & {
    subject?: { reference?: string };
    patient?: { reference?: string };
  };
  copy.id = `other-${resource.id ?? 'x'}`;
  if (copy.resourceType === 'Patient') return { ...copy, id: 'someone-else' } as FhirResource;
  if (copy.subject) copy.subject = { reference };
  else if (copy.patient) copy.patient = { reference };
  else return null; // not a patient's resource (Medication)
  const scale = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(scale);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v).map(([k, x]) => [k, k === 'value' && typeof x === 'number' ? x * factor : scale(x)]),
      );
    return v;
  };
  return scale(copy) as FhirResource;
}

describe('metamorphic properties at the record level (own-record + CQL)', () => {
  it("another patient's resources (newer, other values, named relatively, absolutely or by version) change neither the facts nor the recommendation", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...BASES),
        fc.array(fc.record({ pick: fc.nat(), reference: otherReference }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom(0.5, 1.5, 3),
        async (base, picks, hours, factor) => {
          const others = picks.flatMap(({ pick, reference }) => {
            const copy = othersCopy(
              base.resources[pick % base.resources.length] as FhirResource,
              reference,
              hours,
              factor,
            );
            return copy ? [copy] : [];
          });
          const clean = await factsOf(base, base.resources);
          const mixed = await factsOf(base, [...others, ...base.resources]);
          expect(mixed).toEqual(clean);
          expect(verdict(decide(mixed, params, base.now, patientContext))).toEqual(
            verdict(decide(clean, params, base.now, patientContext)),
          );
        },
      ),
      { numRuns: RECORD_RUNS },
    );
  });

  it('a weight of 0.001 kg or 1e6 kg dated before the latest real weight changes neither the facts nor the recommendation', async () => {
    const withWeight = BASES.filter((b) =>
      b.resources.some((r) => r.resourceType === 'Observation' && r.code.coding?.some((c) => c.code === '29463-7')),
    );
    expect(withWeight.length).toBeGreaterThan(5);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...withWeight),
        fc.constantFrom(0.001, 1e6),
        fc.integer({ min: 1, max: 24 * 30 }),
        async (base, value, minutesBefore) => {
          const weights = base.resources.filter(
            (r) => r.resourceType === 'Observation' && r.code.coding?.some((c) => c.code === '29463-7'),
          ) as Array<FhirResource & { effectiveDateTime: string }>;
          const latestMs = Math.max(...weights.map((w) => Date.parse(w.effectiveDateTime)));
          const implausible = {
            ...structuredClone(weights[0]),
            id: 'implausible-weight',
            effectiveDateTime: iso(latestMs - minutesBefore * MIN),
            valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
          } as FhirResource;
          const clean = await factsOf(base, base.resources);
          const mixed = await factsOf(base, [implausible, ...base.resources]);
          expect(mixed).toEqual(clean);
          expect(verdict(decide(mixed, params, base.now, patientContext))).toEqual(
            verdict(decide(clean, params, base.now, patientContext)),
          );
        },
      ),
      { numRuns: RECORD_RUNS },
    );
  });
});
