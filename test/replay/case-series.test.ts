/**
 * The six patients of the case series (Lauritsen et al. 2016, Table 1) replayed through the real CQL
 * evaluator and decision core: at every pain assessment, on the chart as it stood then, the
 * recommendation must match the table written by hand from docs/clinical-specification.md (test/replay/expectations).
 */
import { loadParameters } from '../../src/config/parameters';
import { createEvaluator, type Evaluator } from '../../src/cql';
import type { MedicationAdministration } from 'fhir/r4';
import { CASE_SERIES_EXPECTATIONS, type Expectation } from './expectations';
import { instant, loadExample, offsetToIso, painAssessments } from './record';
import { actual, expected, replay, type ReplayStep } from './replay';
import { readManifest } from './manifest';

const params = loadParameters().values;
let evaluator: Evaluator;

beforeAll(() => {
  evaluator = createEvaluator({ poolSize: 1 });
});

const rulesOf = (exp: Expectation): string => [...new Set(exp.rows.map((r) => r[2]))].join(', ');

describe.each(CASE_SERIES_EXPECTATIONS.map((exp, i) => ({ exp, n: i + 1 })))('case series patient $n', ({ exp, n }) => {
  const reported = exp.reported;
  if (!reported) throw new Error(`${exp.file}: a case-series expectation needs the reported Table 1 values`);
  let steps: ReplayStep[] = [];

  beforeAll(async () => {
    steps = await replay(exp, evaluator, params);
  }, 120_000);

  it(`the table has a row for every pain assessment charted in ${exp.file}, with the charted value`, () => {
    const charted = painAssessments(loadExample(exp.file)).map((p) => `${p.time} ${p.value}`);
    const table = exp.rows.map((r) => `${offsetToIso(exp.start, r[0])} ${r[1]}`);
    expect(table).toEqual(charted);
  });

  it(`at every pain assessment, the recommendation is the hand-written one (${rulesOf(exp)})`, () => {
    expect(steps.map((s) => actual(s.row, s.recommendation))).toEqual(exp.rows.map(expected));
  });

  it(`reaches the sustained target (taper phase) at ${reported.rateAtTarget} mg/kg/h, ${reported.hoursToTarget} h after the start, as Table 1 reports`, () => {
    const targetAt = offsetToIso(exp.start, `${reported.hoursToTarget}:00`);
    const index = steps.findIndex((s) => s.recommendation.phase === 'taper');
    expect(index).toBeGreaterThan(0);
    const first = steps[index]!;
    expect(first.at).toBe(targetAt);
    expect(instant(first.recommendation.infusion.startedAt)).toBe(instant(exp.start));
    expect(instant(first.recommendation.infusion.targetReachedAt)).toBe(instant(targetAt));
    expect(first.recommendation.infusion.rateAtTarget).toBe(reported.rateAtTarget);
    expect(first.recommendation.currentRate).toBe(reported.rateAtTarget);
    expect(first.recommendation.sustained?.reached).toBe(true);
    expect(first.recommendation.sustained?.hours).toBeGreaterThanOrEqual(params.sustainedHours);
    // One assessment earlier the relief had not lasted long enough yet.
    expect(steps[index - 1]!.recommendation.phase).toBe('titration');
  });

  it('tapers to a stop (T4/T5) and is then completed (X1), the course summary matching the chart', () => {
    const last = steps[steps.length - 1]!;
    const administrations = (loadExample(exp.file).entry ?? [])
      .map((e) => e.resource)
      .filter((r): r is MedicationAdministration => r?.resourceType === 'MedicationAdministration');
    const end = administrations
      .map((a) => a.effectivePeriod?.end ?? '')
      .sort()
      .pop();
    expect(administrations.every((a) => a.status === 'completed')).toBe(true);
    expect(last.recommendation).toMatchObject({ ruleId: 'X1', action: 'completed', phase: 'stopped' });
    expect(instant(last.recommendation.infusion.endedAt)).toBe(instant(end));
    expect(last.recommendation.infusion.rateAtTarget).toBe(reported.rateAtTarget);
    // After the target, every rate change is a decrease, and the protocol's last word before the end is T5.
    const targetMs = Date.parse(last.recommendation.infusion.targetReachedAt ?? '');
    const after = last.recommendation.infusion.segments
      .filter((s) => Date.parse(s.start) > targetMs)
      .map((s) => s.rate);
    const rates = [reported.rateAtTarget, ...after];
    expect(rates.slice(1).every((r, i) => r < rates[i]!)).toBe(true);
    const stops = steps.filter((s) => s.recommendation.ruleId === 'T5');
    expect(stops).toHaveLength(1);
  });

  it(`the manifest's scenario times for patient ${n} name the same rules as the table`, () => {
    const entry = readManifest().find((m) => m.file === exp.file);
    expect(entry).toBeDefined();
    const byTime = new Map(exp.rows.map((r) => [offsetToIso(exp.start, r[0]), r[2]]));
    for (const s of entry!.scenarioTimes)
      expect(`${s.at} ${byTime.get(s.at) ?? 'no row'}`).toBe(`${s.at} ${s.expectedRuleId}`);
    expect(entry).toMatchObject({
      patientId: exp.patientId,
      encounterId: exp.encounterId,
      kind: 'case-series',
      infusionStart: exp.start,
    });
  });
});
