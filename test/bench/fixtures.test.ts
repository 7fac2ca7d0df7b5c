/**
 * Smoke test of the benchmark's fixture generator (src/bench/fixtures.ts). No timing here: speed is
 * measured by `npm run bench`, never asserted in a test.
 */
import type { Bundle, MedicationAdministration, Observation } from 'fhir/r4';
import {
  buildRecord,
  LARGE,
  orderSignRequest,
  patientViewFallbackRequest,
  patientViewRequest,
  TYPICAL,
  type BenchRecord,
  type DiscoveredService,
} from '../../src/bench/fixtures';
import { loadParameters } from '../../src/config/parameters';
import { createEvaluator } from '../../src/cql';
import { decide } from '../../src/protocol';
import { bundle } from '../support/chart';
import { MS_PER_DAY, MS_PER_HOUR } from '../../src/protocol/units';
import { loadDefinitions } from '../../src/service/definitions';
import { validateRequest } from '../../src/validation/request';

const params = loadParameters().values;
const NOW = new Date('2026-11-24T12:00:00.000Z');
const definitions = loadDefinitions();
const byHook = (hook: string): DiscoveredService => {
  const found = [...definitions.values()].find((d) => d.hook === hook);
  if (!found) throw new Error(`no ${hook} service`);
  return found;
};

const ofType = <T>(record: BenchRecord, type: string, code?: string): T[] =>
  record.resources.filter(
    (r) => r.resourceType === type && (code === undefined || (r as Observation).code?.coding?.[0]?.code === code),
  ) as T[];
const entries = (value: unknown): Observation[] =>
  ((value as Bundle).entry ?? []).map((e) => e.resource as Observation);

describe('benchmark fixtures', () => {
  it('the same `now` gives byte-identical requests (the benchmark is reproducible)', () => {
    const a = patientViewRequest(byHook('patient-view'), buildRecord(params, NOW));
    const b = patientViewRequest(byHook('patient-view'), buildRecord(params, new Date(NOW)));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('the typical record holds 72 h of hourly pain scores and vitals, 20 ketamine administrations and the work-up', () => {
    const record = buildRecord(params, NOW, TYPICAL);
    const pain = ofType<Observation>(record, 'Observation', '72514-3');
    expect(pain).toHaveLength(TYPICAL.historyHours);
    expect(ofType(record, 'Observation', '85354-9')).toHaveLength(TYPICAL.historyHours);
    expect(ofType(record, 'Observation', '8867-4')).toHaveLength(TYPICAL.historyHours);
    expect(ofType(record, 'MedicationAdministration')).toHaveLength(TYPICAL.administrations);
    for (const code of ['29463-7', '11524-6', '2106-3']) expect(ofType(record, 'Observation', code)).toHaveLength(1);
    expect(ofType(record, 'Encounter')).toHaveLength(1);
    expect(ofType(record, 'Condition').length).toBeGreaterThan(0);
    const oldest = Math.min(...pain.map((o) => Date.parse(o.effectiveDateTime ?? '')));
    expect(NOW.getTime() - oldest).toBeLessThan(TYPICAL.historyHours * MS_PER_HOUR);
  });

  it('the large record spans 7 days and stays inside the lookback window', () => {
    const record = buildRecord(params, NOW, LARGE);
    const times = record.resources.flatMap((r) => {
      const a = r as { effectiveDateTime?: string; effectivePeriod?: { start?: string } };
      const t = a.effectiveDateTime ?? a.effectivePeriod?.start;
      return t ? [Date.parse(t)] : [];
    });
    const admins = ofType<MedicationAdministration>(record, 'MedicationAdministration');
    const firstAdmin = Math.min(...admins.map((a) => Date.parse(a.effectivePeriod?.start ?? '')));
    expect(ofType(record, 'Observation', '72514-3')).toHaveLength(7 * 24);
    expect(NOW.getTime() - Math.min(...times)).toBeGreaterThan(6 * MS_PER_DAY);
    expect(NOW.getTime() - firstAdmin).toBeLessThan(params.lookbackDays * MS_PER_DAY);
    const weight = ofType<Observation>(record, 'Observation', '29463-7')[0];
    const ekg = ofType<Observation>(record, 'Observation', '11524-6')[0];
    expect(NOW.getTime() - Date.parse(weight?.effectiveDateTime ?? '')).toBeLessThan(
      params.weightMaxAgeDays * MS_PER_DAY,
    );
    expect(NOW.getTime() - Date.parse(ekg?.effectiveDateTime ?? '')).toBeLessThan(params.ekgMaxAgeDays * MS_PER_DAY);
  });

  it('T8 the patient is mid-titration: last change one cadence ago, every pain score above target, next rate one step up', () => {
    const record = buildRecord(params, NOW, TYPICAL);
    const admins = ofType<MedicationAdministration>(record, 'MedicationAdministration');
    const last = admins[admins.length - 1];
    expect(last?.status).toBe('in-progress');
    expect(last?.dosage?.rateQuantity?.value).toBe(record.currentRate);
    const hoursSinceChange = (NOW.getTime() - Date.parse(last?.effectivePeriod?.start ?? '')) / MS_PER_HOUR;
    expect(hoursSinceChange).toBeGreaterThanOrEqual(params.minHoursBetweenChanges);
    expect(hoursSinceChange).toBeLessThanOrEqual(params.maxHoursBetweenChanges);
    expect(admins[admins.length - 2]?.dosage?.rateQuantity?.value).toBeLessThan(record.currentRate);
    const scores = ofType<Observation>(record, 'Observation', '72514-3').map((o) => o.valueQuantity?.value ?? 0);
    expect(Math.min(...scores)).toBeGreaterThan(params.targetPain);
    expect(Math.max(...scores)).toBeLessThanOrEqual(params.painScaleMax);
    expect(record.expectedNextRate).toBeCloseTo(record.currentRate + params.escalationStep, 6);
    expect(record.expectedNextRate).toBeLessThanOrEqual(params.softMaxRate);
  });

  it.each([
    ['typical', TYPICAL],
    ['large', LARGE],
  ])(
    'T8 the %s record, read by the real CQL and decision core, is a T8 increase to the expected next rate',
    async (_name, shape) => {
      const record = buildRecord(params, NOW, shape);
      const facts = await createEvaluator({ poolSize: 1 }).evaluate(bundle(...record.resources), NOW, 'patient-view');
      const context = { hook: 'patient-view' as const, encounterId: record.encounterId, draftOrderIds: [] };
      expect(decide(facts, params, NOW, context)).toMatchObject({
        ruleId: 'T8',
        recommendedRate: record.expectedNextRate,
      });
    },
  );

  it('CH-P1 the prefetch has exactly the service keys, and each key carries only what its query selects', () => {
    const service = byHook('patient-view');
    const record = buildRecord(params, NOW, TYPICAL);
    const request = patientViewRequest(service, record);
    const prefetch = request.prefetch as Record<string, unknown>;
    expect(Object.keys(prefetch).sort()).toEqual(Object.keys(service.prefetch ?? {}).sort());
    expect((prefetch.patient as { id?: string }).id).toBe(record.patientId);
    const pain = entries(prefetch.painScores);
    expect(pain).toHaveLength(TYPICAL.historyHours);
    expect(pain.every((o) => o.code.coding?.[0]?.code === '72514-3')).toBe(true);
    // _sort=-date: newest first
    expect(Date.parse(pain[0]?.effectiveDateTime ?? '')).toBeGreaterThan(Date.parse(pain[1]?.effectiveDateTime ?? ''));
    expect(entries(prefetch.vitals)).toHaveLength(TYPICAL.historyHours * 4);
    expect(entries(prefetch.medicationAdministrations)).toHaveLength(TYPICAL.administrations);
    expect(entries(prefetch.adverseEvents)).toHaveLength(0);
  });

  it('CH-R2 every request the benchmark sends is a valid request for its hook', () => {
    const record = buildRecord(params, NOW, TYPICAL);
    const pv = patientViewRequest(byHook('patient-view'), record);
    const sign = orderSignRequest(byHook('order-sign'), record, record.expectedNextRate);
    const fallback = patientViewFallbackRequest(record, 'http://127.0.0.1:1/fhir', 'token');
    expect(validateRequest(pv, { hook: 'patient-view' }).context.patientId).toBe(record.patientId);
    expect(validateRequest(sign, { hook: 'order-sign' }).context.draftOrders?.entry).toHaveLength(1);
    expect(validateRequest(fallback, { hook: 'patient-view' }).prefetch).toBeUndefined();
  });
});
