import { buildInfusion } from '../../src/protocol/infusion';
import { NOW, d, h, mgkgh, params, patient, qty } from './builders';

const infusionOf = (p: ReturnType<typeof patient>, weightKg: number | null = 70) =>
  buildInfusion(p.build().administrations, weightKg, params, NOW);

describe('infusion segments from ketamine administrations', () => {
  it('a chain of rate changes gives one segment per rate; the current rate covers now and the last change is its start', () => {
    const s = infusionOf(
      patient().infusion([
        [0.1, h(10)],
        [0.2, h(6)],
        [0.3, h(2)],
      ]),
    );
    expect(s.segments.map((x) => [x.rate, x.start, x.end])).toEqual([
      [0.1, h(10), h(6)],
      [0.2, h(6), h(2)],
      [0.3, h(2), null],
    ]);
    expect(s.currentRate).toBe(0.3);
    expect(s.lastChangeAt).toBe(h(2));
    expect(s.startedAt).toBe(h(10));
    expect(s.highestRate).toBe(0.3);
    expect(s.endedAt).toBeNull();
  });

  it('a later administration start closes an earlier open one', () => {
    const s = infusionOf(
      patient()
        .admin({ start: h(8), rate: mgkgh(0.1), status: 'in-progress' })
        .admin({ start: h(4), rate: mgkgh(0.2), status: 'in-progress' }),
    );
    expect(s.segments.map((x) => [x.rate, x.end])).toEqual([
      [0.1, h(4)],
      [0.2, null],
    ]);
    expect(s.currentRate).toBe(0.2);
  });

  it('adjacent administrations with the same rate (within 0.005) are one segment: re-charting does not reset the last change', () => {
    const s = infusionOf(
      patient().infusion([
        [0.2, h(9)],
        [0.2, h(5)],
        [0.204, h(1)],
      ]),
    );
    expect(s.segments).toHaveLength(1);
    expect(s.segments[0]).toMatchObject({ rate: 0.2, start: h(9), end: null });
    expect(s.segments[0]?.administrationIds).toHaveLength(3);
    expect(s.lastChangeAt).toBe(h(9));
  });

  it.each(['entered-in-error', 'not-done', 'on-hold', 'stopped'])(
    'an administration with status %s never counts as a running rate',
    (status) => {
      const s = infusionOf(patient().admin({ start: h(2), status, rate: mgkgh(0.3) }));
      expect(s.started).toBe(false);
      expect(s.currentRate).toBe(0);
      expect(s.notes.join(' ')).toContain(status);
    },
  );

  it('a rate of 0 is not running: the infusion has ended when the 0 rate was charted', () => {
    const s = infusionOf(
      patient().infusion([
        [0.2, h(10)],
        [0, h(3)],
      ]),
    );
    expect(s.current).toBeNull();
    expect(s.currentRate).toBe(0);
    expect(s.segments.map((x) => x.rate)).toEqual([0.2]);
    expect(s.endedAt).toBe(h(3));
  });

  it('a completed infusion with an end before now is not running', () => {
    const s = infusionOf(
      patient().infusion(
        [
          [0.1, h(20)],
          [0.3, h(10)],
        ],
        { end: h(1) },
      ),
    );
    expect(s.current).toBeNull();
    expect(s.endedAt).toBe(h(1));
    expect(s.highestRate).toBe(0.3);
  });

  it('administrations that ended before the lookback window (7 d) are not part of this infusion; one ending inside it is', () => {
    const old = infusionOf(patient().admin({ start: d(9), end: d(7.01), status: 'completed' }));
    expect(old.started).toBe(false);
    const reaching = infusionOf(patient().admin({ start: d(9), end: d(6.99), status: 'completed' }));
    expect(reaching.started).toBe(true);
    expect(reaching.current).toBeNull();
  });

  it('off-grid rates are kept as charted (0.12 stays 0.12)', () => {
    expect(infusionOf(patient().infusion([[0.12, h(4)]])).currentRate).toBe(0.12);
  });

  it('mg/h and mL/h rates are converted with the weight: 21 mg/h and 14 mL/h at 70 kg are 0.3 and 0.2 mg/kg/h', () => {
    const s = infusionOf(
      patient()
        .admin({ start: h(8), end: h(4), status: 'completed', rate: qty(14, 'mL/h') })
        .admin({ start: h(4), rate: qty(21, 'mg/h') }),
    );
    expect(s.segments.map((x) => x.rate)).toEqual([0.2, 0.3]);
  });

  it('an unknown unit is reported as rate-unreadable with the unit, never guessed; the infusion still counts as running', () => {
    const s = infusionOf(patient().admin({ start: h(2), rate: qty(5, 'mcg/kg/min') }));
    expect(s.started).toBe(true);
    expect(s.current).not.toBeNull();
    expect(s.currentRate).toBeNull();
    expect(s.segments).toEqual([]);
    expect(s.unreadable).toEqual([
      expect.objectContaining({ code: 'rate-unreadable', detail: expect.stringContaining('mcg/kg/min') }),
    ]);
  });

  it('mg/h without a weight is unreadable (not guessed)', () => {
    const s = infusionOf(patient().admin({ start: h(2), rate: qty(21, 'mg/h') }), null);
    expect(s.currentRate).toBeNull();
    expect(s.unreadable[0]?.detail).toContain('weight');
  });

  it('an administration dated after now is not counted', () => {
    const s = infusionOf(patient().admin({ start: h(-1) }));
    expect(s.started).toBe(false);
  });
});

describe('courses: the segments since the last time nothing was running', () => {
  it('a stop of more than gapToleranceMinutes starts a new course; the window still starts at the first course', () => {
    const s = infusionOf(
      patient()
        .infusion([[0.3, h(30)]], { end: h(20) })
        .infusion([[0.1, h(6)]]),
    );
    expect(s).toMatchObject({ startedAt: h(30), courseStartedAt: h(6), courses: 2, currentRate: 0.1 });
  });
  it('when nothing runs now, the course is the last one', () => {
    const s = infusionOf(
      patient()
        .infusion([[0.3, h(30)]], { end: h(20) })
        .infusion([[0.1, h(6)]], { end: h(2) }),
    );
    expect(s).toMatchObject({ courseStartedAt: h(6), courses: 2, current: null, endedAt: h(2) });
  });
  it('a charted pause at rate 0 of more than gapToleranceMinutes also ends the course', () => {
    const s = infusionOf(
      patient().infusion([
        [0.3, h(30)],
        [0, h(20)],
        [0.1, h(6)],
      ]),
    );
    expect(s).toMatchObject({ courseStartedAt: h(6), courses: 2 });
  });
});
