/**
 * Property-based tests over random infusion histories. Each property is checked against a small
 * oracle written from docs/clinical-specification.md (test/protocol/histories.ts), not against the code under test's own helpers.
 */
import fc from 'fast-check';
import { decide } from '../../src/protocol/decide';
import { NOW, params } from './builders';
import { HARD_MAX, HOUR, STEP, TOL, contextFor, history, oracle, place, toFacts } from './histories';
const RUNS = { numRuns: 400 };

describe('properties over random infusion histories', () => {
  it('the recommended rate is never negative and never above the hard maximum (1.0 mg/kg/h)', () => {
    fc.assert(
      fc.property(history, (hist) => {
        const rec = decide(toFacts(hist, place(hist)), params, NOW, contextFor(hist));
        if (rec.recommendedRate !== null) {
          expect(rec.recommendedRate).toBeGreaterThanOrEqual(0);
          expect(rec.recommendedRate).toBeLessThanOrEqual(HARD_MAX + TOL);
        }
      }),
      RUNS,
    );
  });

  it('T7 (v1.1) the max tolerated rate caps suggested increases only: an increase never goes above it, and a tolerated rate above it is held, never cut for the cap alone', () => {
    fc.assert(
      fc.property(history, (hist) => {
        const placed = place(hist);
        const o = oracle(hist, placed);
        const rec = decide(toFacts(hist, placed), params, NOW, contextFor(hist));
        if (rec.action === 'increase' && o.maxTolerated !== null) {
          expect(rec.recommendedRate).toBeLessThanOrEqual(o.maxTolerated + TOL);
        }
        if ((rec.ruleId === 'A1' || rec.ruleId === 'A2') && rec.currentRate !== null && rec.recommendedRate !== null) {
          // A1/A2 step down one escalationStep (or stop), never further because of the cap.
          expect(rec.recommendedRate).toBeGreaterThanOrEqual(
            Math.min(Math.max(0, rec.currentRate - STEP), params.hardMaxRate) - TOL,
          );
        }
      }),
      RUNS,
    );
  });

  it('an increase is only ever one step from the current rate, never within 3 h of a change, after an effect at the current rate or at an unreadable rate, during a vital breach, or in the taper phase of the current course', () => {
    fc.assert(
      fc.property(history, (hist) => {
        const placed = place(hist);
        const o = oracle(hist, placed);
        const rec = decide(toFacts(hist, placed), params, NOW, contextFor(hist));
        if (rec.action !== 'increase') return;
        expect(o.current).toBeGreaterThan(0);
        expect(rec.recommendedRate).toBeCloseTo(o.current + STEP, 6);
        expect(NOW.getTime() - (o.lastChange as number)).toBeGreaterThanOrEqual(3 * HOUR);
        expect(o.effectAtCurrent).toBe(false);
        expect(o.toleranceUnknown).toBe(false);
        expect(o.breach).toBe(false);
        expect(o.taper).toBe(false);
        expect(rec.phase).toBe('titration');
      }),
      RUNS,
    );
  });

  it('a start is never suggested without weight, EKG, a negative pregnancy test unless recorded as male, a baseline pain score, and no contraindication', () => {
    let starts = 0;
    fc.assert(
      fc.property(history, (hist) => {
        const placed = place(hist);
        const o = oracle(hist, placed);
        const rec = decide(toFacts(hist, placed), params, NOW, contextFor(hist));
        if (rec.action !== 'start') return;
        starts++;
        expect(o.current).toBe(0);
        expect(o.prerequisitesMet).toBe(true);
        expect(o.contraindicated).toBe(false);
        expect(rec.recommendedRate).toBe(0.1);
      }),
      RUNS,
    );
    expect(starts).toBeGreaterThan(0); // the generator does reach the start rule
  });

  it('in taper phase the protocol never suggests a higher rate than the current one', () => {
    fc.assert(
      fc.property(history, (hist) => {
        const placed = place(hist);
        const o = oracle(hist, placed);
        const rec = decide(toFacts(hist, placed), params, NOW, contextFor(hist));
        if (!hist.migraine || rec.phase !== 'taper') return;
        expect(o.taper).toBe(true);
        if (rec.recommendedRate !== null) expect(rec.recommendedRate).toBeLessThanOrEqual(o.current + TOL);
      }),
      RUNS,
    );
  });

  it('without a chronic-migraine diagnosis the action is always none (P0)', () => {
    fc.assert(
      fc.property(history, (hist) => {
        const rec = decide(toFacts({ ...hist, migraine: false }, place(hist)), params, NOW, contextFor(hist));
        expect(rec).toMatchObject({ ruleId: 'P0', action: 'none', recommendedRate: null });
      }),
      { numRuns: 100 },
    );
  });
});
