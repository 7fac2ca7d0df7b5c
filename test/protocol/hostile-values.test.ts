/**
 * Hostile values at the decision level (issue 13, contract v1.1): a value that cannot be read is never
 * acted on and never hides a running pump.
 */
import { decide } from '../../src/protocol/decide';
import { NOW, h, ketamine, m, params, patient, patientView, qty } from './builders';

/** Running 0.3 mg/kg/h for 4 h after 0.2 mg/kg/h, pain 7/10: T8 on a clean chart. */
const running = () =>
  patient()
    .infusion([
      [0.2, h(8)],
      [0.3, h(4)],
    ])
    .pains([7, h(9)], [7, m(20)]);

describe('a positive charted rate that reads as 0 once rounded', () => {
  it('T8 the clean chart increases from 0.3 mg/kg/h (the base of the cases below)', () => {
    expect(decide(running().build(), params, NOW, patientView)).toMatchObject({ ruleId: 'T8', currentRate: 0.3 });
  });

  it.each([
    ['20 mL/h of a bag charted at 0.00001 mg/mL', qty(20, 'mL/h'), 0.00001],
    [`0.004 mg/kg/h (below the ${params.rateRounding} mg/kg/h rounding)`, qty(0.004, 'mg/kg/h'), null],
    ['0.2 mg/h', qty(0.2, 'mg/h'), null],
  ])(
    'D1 when the pump now runs %s, the rate is unreadable: needs-data, never X1 "completed"',
    (_label, rate, strength) => {
      const facts = running()
        .admin({ start: m(30), rate, medication: ketamine({ concentrationMgPerMl: strength }) })
        .build();
      const rec = decide(facts, params, NOW, patientView);
      expect(rec).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
      expect(rec.missing).toEqual([
        expect.objectContaining({ code: 'rate-unreadable', detail: expect.stringContaining('reads as less than') }),
      ]);
    },
  );

  it('X1 a charted rate of exactly 0 still means nothing runs', () => {
    const facts = running()
      .admin({ start: m(30), rate: qty(0, 'mL/h') })
      .build();
    expect(decide(facts, params, NOW, patientView)).toMatchObject({ ruleId: 'X1', action: 'completed' });
  });
});

describe('an in-progress administration whose start cannot be read', () => {
  it.each([
    ['with nothing else running', () => patient().pains([7, m(20)])],
    ['beside a readable running rate', () => running()],
    [
      'after a course that ended an hour ago',
      () =>
        running().with((f) =>
          f.administrations.forEach((a) => Object.assign(a, { status: 'completed', end: a.end ?? h(1) })),
        ),
    ],
  ])('D1 %s: the rate running now cannot be told, never X1 "completed"', (_label, chart) => {
    const facts = chart().admin({ start: null, end: null, status: 'in-progress' }).build();
    const rec = decide(facts, params, NOW, patientView);
    expect(rec).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
    expect(rec.missing).toContainEqual(
      expect.objectContaining({ code: 'rate-unreadable', detail: expect.stringContaining('no readable start time') }),
    );
  });

  it('X1 a completed administration without a start is not counted (it ran, and ended)', () => {
    const facts = running()
      .with((f) => f.administrations.forEach((a) => Object.assign(a, { status: 'completed', end: a.end ?? h(1) })))
      .admin({ start: null, end: null, status: 'completed' })
      .build();
    expect(decide(facts, params, NOW, patientView)).toMatchObject({ ruleId: 'X1' });
  });
});

describe('§1 a bag strength charted but unusable: the running mL/h rate is unreadable (D1), never read with the default', () => {
  it.each<[string, Parameters<typeof ketamine>[0], string]>([
    ['100 mg / 0 mL', { strengthUnreadable: '100 mg / 0 mL' }, '100 mg / 0 mL'],
    ['-100 mg / 100 mL (negative)', { strengthUnreadable: '-100 mg / 100 mL' }, '-100 mg / 100 mL'],
    ['1e308 mg / 1e-308 mL (not finite)', { strengthUnreadable: '1e+308 mg / 1e-308 mL' }, '1e+308 mg / 1e-308 mL'],
    ['a strength of 0 mg/mL', { concentrationMgPerMl: 0 }, '0 mg/mL'],
    ['a negative strength', { concentrationMgPerMl: -1 }, '-1 mg/mL'],
  ])(
    'D1 when the pump now runs 14 mL/h of a bag charted at %s: needs-data, the strength named, never T8 from 0.2',
    (_label, strength, named) => {
      const facts = running()
        .admin({ start: m(30), rate: qty(14, 'mL/h'), medication: ketamine(strength) })
        .build();
      const rec = decide(facts, params, NOW, patientView);
      expect(rec).toMatchObject({ ruleId: 'D1', action: 'needs-data', currentRate: null, recommendedRate: null });
      expect(rec.missing).toEqual([
        expect.objectContaining({
          code: 'rate-unreadable',
          detail: expect.stringContaining(`(${named}) cannot be read`),
        }),
      ]);
    },
  );

  it('D1 14 mL/h of a bag charted at 1e308 mg/mL reads as an implausible rate: a charting error, named', () => {
    const facts = running()
      .admin({ start: m(30), rate: qty(14, 'mL/h'), medication: ketamine({ concentrationMgPerMl: 1e308 }) })
      .build();
    const rec = decide(facts, params, NOW, patientView);
    expect(rec).toMatchObject({ ruleId: 'D1', currentRate: null });
    expect(rec.missing[0]?.detail).toContain('highest plausible rate');
  });

  it('14 mL/h with no strength charted anywhere is still read with the default 1 mg/mL (0.2 mg/kg/h), and said', () => {
    const facts = running()
      .admin({ start: m(30), rate: qty(14, 'mL/h') })
      .build();
    const rec = decide(facts, params, NOW, patientView);
    expect(rec).toMatchObject({ currentRate: 0.2, currentRateReading: { concentrationFrom: 'default' } });
  });
});
