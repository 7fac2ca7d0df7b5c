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
