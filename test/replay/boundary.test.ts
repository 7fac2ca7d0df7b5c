/**
 * The boundary patients replayed through the real CQL evaluator and decision core: each protocol
 * edge (stale weight, missing EKG, positive pregnancy test, hallucination, SBP 190, ceiling, VAS in
 * mm, rate in mL/h, not inpatient, male without pregnancy test, other indication) gives the named
 * rule at the named time, and every other pain assessment matches the hand-written table too.
 */
import { loadParameters } from '../../src/config/parameters';
import { createEvaluator, type Evaluator } from '../../src/cql';
import { BOUNDARY_EXPECTATIONS, type Expectation } from './expectations';
import { instant, loadExample, offsetToIso, painAssessments } from './record';
import { actual, expected, replay, type ReplayStep } from './replay';
import { readManifest } from './manifest';

const params = loadParameters().values;
let evaluator: Evaluator;

beforeAll(() => {
  evaluator = createEvaluator({ poolSize: 1 });
});

const find = (file: string): Expectation => {
  const exp = BOUNDARY_EXPECTATIONS.find((e) => e.file === file);
  if (!exp) throw new Error(`no expectation for ${file}`);
  return exp;
};

/** The headline of each boundary bundle: the edge it shows, with the rule ids, for the test name. */
const HEADLINES: Record<string, string> = {
  'stale-weight.json': 'a weight older than weightMaxAgeDays during the infusion: D1 needs-data, before T1',
  'missing-ekg.json': 'no EKG: S2 lists ekg-missing; once charted, S3',
  'positive-pregnancy-test.json': 'a positive urine hCG: S1 contraindicated',
  'hallucination-after-increase.json':
    'a hallucination after an increase: A1 decrease, then T1, then T7 at the max tolerated rate',
  'sbp-190.json': 'SBP 190: S1 before the start, A2 decrease while running',
  'ceiling-reached.json': 'titrated to hardMaxRate: T8 warns past softMaxRate, T7 holds at 1.0',
  'vas-in-mm.json': 'a VAS in mm (and > 10 on 38214-3) is read on the 0-10 scale: T8 at 72 mm, T6 at 25',
  'rate-in-ml-per-hour.json': 'mL/h with a contained 2 mg/mL Medication converted to mg/kg/h: T8 0.3 -> 0.4',
  'not-inpatient.json':
    'an ambulatory encounter without a ketamine order: no start card on patient-view (S3, action none)',
  'male-no-pregnancy-test.json': 'a man without a pregnancy test: S3 start',
  'other-indication.json': 'no chronic migraine: P0 none, before and during an infusion',
};

describe.each(BOUNDARY_EXPECTATIONS.map((exp) => ({ exp, file: exp.file })))('boundary $file', ({ exp }) => {
  let steps: ReplayStep[] = [];

  beforeAll(async () => {
    steps = await replay(exp, evaluator, params);
  }, 60_000);

  it('the table has a row for every pain assessment charted, with the charted value', () => {
    const charted = painAssessments(loadExample(exp.file)).map((p) => `${p.time} ${p.value}`);
    expect(exp.rows.map((r) => `${offsetToIso(exp.start, r[0])} ${r[1]}`)).toEqual(charted);
  });

  it(`${HEADLINES[exp.file] ?? exp.file}`, () => {
    expect(steps.map((s) => actual(s.row, s.recommendation))).toEqual(exp.rows.map(expected));
  });

  it("the manifest's scenario times name the same rules as the table", () => {
    const entry = readManifest().find((m) => m.file === exp.file);
    expect(entry).toMatchObject({ kind: 'boundary', patientId: exp.patientId, encounterId: exp.encounterId });
    const byTime = new Map(exp.rows.map((r) => [offsetToIso(exp.start, r[0]), r[2]]));
    expect(entry!.scenarioTimes.length).toBeGreaterThan(0);
    for (const s of entry!.scenarioTimes)
      expect(`${s.at} ${byTime.get(s.at) ?? 'no row'}`).toBe(`${s.at} ${s.expectedRuleId}`);
  });
});

describe('boundary details', () => {
  it('VAS in mm: the scores are read as 7.2, 2.5 and 4.5 on the 0-10 scale, and said to be converted', async () => {
    const exp = find('vas-in-mm.json');
    const steps = await replay(exp, evaluator, params);
    const last = steps[steps.length - 1]!.recommendation;
    const byTime = new Map(last.recentPain.map((p) => [instant(p.time), p]));
    const at = (offset: string) => byTime.get(instant(offsetToIso(exp.start, offset)));
    expect(at('3:10')).toMatchObject({ score: 7.2, charted: expect.stringContaining('72') });
    expect(at('6:30')).toMatchObject({ score: 2.5 });
    expect(at('9:40')).toMatchObject({ score: 4.5, charted: expect.stringContaining('45') });
  });

  it('rate in mL/h: T8 arithmetic uses the charted 2 mg/mL (0.4 mg/kg/h at 70 kg = 28 mg/h = 14 mL/h)', async () => {
    const exp = find('rate-in-ml-per-hour.json');
    const steps = await replay(exp, evaluator, params);
    const rec = steps[steps.length - 1]!.recommendation;
    expect(rec.arithmetic).toMatchObject({
      fromRate: 0.3,
      toRate: 0.4,
      weightKg: 70,
      mgPerHour: 28,
      concentrationMgPerMl: 2,
      concentrationSource: 'charted',
      mlPerHour: 14,
    });
  });

  it('A1 hallucination: the effect at 0.4 sets the max tolerated rate to 0.3, which T7 then holds', async () => {
    const exp = find('hallucination-after-increase.json');
    const steps = await replay(exp, evaluator, params);
    const a1 = steps.find((s) => s.recommendation.ruleId === 'A1')!.recommendation;
    expect(a1.adverseEffect).toMatchObject({ atRate: 0.4 });
    expect(instant(a1.adverseEffect?.time)).toBe(instant(offsetToIso(exp.start, '10:50')));
    const t7 = steps[steps.length - 1]!.recommendation;
    expect(t7).toMatchObject({ ruleId: 'T7', maxToleratedRate: 0.3 });
  });

  it('A2 SBP 190: the breach is the systolic reading, high, limit sbpHigh', async () => {
    const exp = find('sbp-190.json');
    const steps = await replay(exp, evaluator, params);
    const a2 = steps.find((s) => s.recommendation.ruleId === 'A2')!.recommendation;
    expect(a2.vitals.find((v) => v.kind === 'sbp')).toMatchObject({
      value: 190,
      breach: { bound: 'high', limit: params.sbpHigh },
    });
  });
});
