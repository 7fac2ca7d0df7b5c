import { findSustained, normalisePain } from '../../src/protocol/pain';
import type { PainFact } from '../../src/protocol/facts';
import { NOW, h, params } from './builders';

const score = (value: number | null, time: string, over: Partial<PainFact> = {}): PainFact => ({
  id: `p-${time}`,
  time,
  code: '72514-3',
  vas: false,
  value,
  unit: '{score}',
  ...over,
});

describe('normalising pain scores', () => {
  it.each<[string, PainFact, number, string | undefined]>([
    ['a 0–10 numeric score is read as is', score(7, h(1)), 7, undefined],
    ['a valueInteger without unit is read as is', score(4, h(1), { unit: null }), 4, undefined],
    ['a VAS of 72 mm is 7.2', score(72, h(1), { code: '38214-3', vas: true, unit: 'mm' }), 7.2, '72 mm'],
    [
      'a VAS of 72 on 38214-3 without mm (above 10) is read as mm: 7.2',
      score(72, h(1), { code: '38214-3', vas: true, unit: null }),
      7.2,
      '72 (read as mm)',
    ],
    [
      'a VAS of 7 on 38214-3 without a unit stays 7',
      score(7, h(1), { code: '38214-3', vas: true, unit: null }),
      7,
      undefined,
    ],
    ['a score of 10 (the top of the scale) is kept', score(10, h(1)), 10, undefined],
  ])('%s', (_s, fact, expected, charted) => {
    const { readings } = normalisePain([fact], params, NOW);
    expect(readings).toHaveLength(1);
    expect(readings[0]?.score).toBeCloseTo(expected, 10);
    expect(readings[0]?.charted).toBe(charted);
  });

  it.each<[string, PainFact, string]>([
    ['a numeric score of 11 is outside 0–10', score(11, h(1)), 'outside'],
    ['a negative score', score(-1, h(1)), 'outside'],
    ['a VAS of 105 mm (10.5)', score(105, h(1), { code: '38214-3', vas: true, unit: 'mm' }), 'outside'],
    ['a score without a numeric value', score(null, h(1)), 'no numeric value'],
    ['a score in an unknown unit', score(5, h(1), { unit: '%' }), 'unit'],
  ])('%s is ignored, with a note saying so', (_s, fact, why) => {
    const { readings, notes } = normalisePain([fact], params, NOW);
    expect(readings).toEqual([]);
    expect(notes.join(' ')).toContain(why);
  });
});

describe('the sustained-relief run (§2)', () => {
  const readings = (...s: Array<[number, number]>) =>
    normalisePain(
      s.map(([v, hoursAgo]) => score(v, h(hoursAgo))),
      params,
      NOW,
    ).readings;
  const infusionStart = NOW.getTime() - 20 * 3_600_000;

  it('scores ≤ 3 whose first and last are exactly 8 h apart reach the target, at the time of the last', () => {
    const r = findSustained(readings([3, 10], [2, 6], [3, 2]), infusionStart, params, NOW);
    expect(r.reachedAt).toBe(h(2));
    expect(r.run).toMatchObject({ from: h(10), to: h(2), scores: 3, hours: 8, reached: true });
  });

  it('7 h 59 min of relief is not yet sustained; the run shows when the taper may start', () => {
    const r = findSustained(readings([3, 9.99], [2, 2]), infusionStart, params, NOW);
    expect(r.reachedAt).toBeNull();
    expect(r.run).toMatchObject({ from: h(9.99), to: h(2), scores: 2, reached: false, taperMayStartAt: h(1.99) });
  });

  it('a score above 3 inside the run breaks it', () => {
    const r = findSustained(readings([2, 12], [4, 8], [2, 6], [3, 1]), infusionStart, params, NOW);
    expect(r.reachedAt).toBeNull();
    expect(r.run).toMatchObject({ from: h(6), scores: 2, reached: false });
  });

  it('relief counts only as far as measured: one score 10 h ago with nothing since is not sustained', () => {
    const r = findSustained(readings([2, 10]), infusionStart, params, NOW);
    expect(r.reachedAt).toBeNull();
  });

  it('scores before the infusion started do not count towards the run', () => {
    const r = findSustained(readings([2, 22], [2, 18], [2, 13]), infusionStart, params, NOW);
    expect(r.reachedAt).toBeNull();
    expect(r.run).toMatchObject({ from: h(18), to: h(13), reached: false });
  });

  it('once reached, a later rebound does not undo it (taper phase stays)', () => {
    const r = findSustained(readings([3, 18], [3, 10], [6, 1]), infusionStart, params, NOW);
    expect(r.reachedAt).toBe(h(10));
    expect(r.run).toMatchObject({ reached: true, from: h(18), to: h(10) });
  });

  it('not started: no run', () => {
    expect(findSustained(readings([2, 10], [2, 1]), null, params, NOW)).toEqual({
      reachedAt: null,
      reachedMs: null,
      run: null,
    });
  });
});
