/**
 * The one formatter for times and units that the decision core's notes and the cards share, so a note
 * reads "2026-02-09 10:00 UTC" and "118 mmHg" like the rest of the card.
 */
import { displayQuantity, displayTime, displayUnit, inTimeZone } from '../../src/protocol/display';
import { judgeVitals } from '../../src/protocol/safety';
import { noteText } from '../../src/cards/text';
import { h, NOW, params } from './builders';

describe('times and units as clinicians read them', () => {
  it('a charted time with an offset reads as UTC to the minute', () => {
    expect(displayTime('2026-02-10T13:55:00+00:00')).toBe('2026-02-10 13:55 UTC');
    expect(displayTime('2026-02-10T15:55:30+02:00')).toBe('2026-02-10 13:55 UTC');
  });

  it('an unreadable time is shown as charted, a missing one says so', () => {
    expect(displayTime('yesterday')).toBe('yesterday');
    expect(displayTime(null)).toBe('time not charted');
  });

  it('UCUM units read as written on a chart: mmHg, /min, %; annotations dropped; others as given', () => {
    expect(displayUnit('mm[Hg]')).toBe('mmHg');
    expect(displayUnit('{beats}/min')).toBe('/min');
    expect(displayUnit('[iu]/L')).toBe('IU/L');
    expect(displayUnit(' kPa ')).toBe('kPa');
    expect(displayQuantity(7, '{score}')).toBe('7');
  });

  it('a per-minute value and a percentage attach to the number; other units follow a space', () => {
    expect(displayQuantity(118, 'mm[Hg]')).toBe('118 mmHg');
    expect(displayQuantity(82, '/min')).toBe('82/min');
    expect(displayQuantity(97, '%')).toBe('97%');
    expect(displayQuantity(70, 'kg')).toBe('70 kg');
    expect(displayQuantity(7, null)).toBe('7');
  });

  it("vitals too old to judge are one note (v1.1: a card reads in seconds), in clinicians' units and the zone named", () => {
    const { notes } = judgeVitals(
      [
        { kind: 'sbp', id: 'v-sbp', time: h(3), value: 118, unit: 'mm[Hg]' },
        { kind: 'spo2', id: 'v-spo2', time: h(3), value: 97, unit: '%' },
      ],
      params,
      NOW,
    );
    expect(notes.map(noteText)).toEqual([
      'Not judged, older than 2 h: systolic blood pressure 118 mmHg (2026-11-24 09:00 UTC); oxygen saturation 97% (2026-11-24 09:00 UTC).',
    ]);
  });

  it('times are shown in the configured zone, with the zone named; UTC by default', () => {
    expect(displayTime('2026-11-24T15:00:00Z')).toBe('2026-11-24 15:00 UTC');
    expect(inTimeZone('America/New_York', () => displayTime('2026-11-24T15:00:00Z'))).toBe('2026-11-24 10:00 EST');
    expect(inTimeZone('America/New_York', () => displayTime('2026-07-01T15:00:00Z'))).toBe('2026-07-01 11:00 EDT');
    expect(displayTime('2026-11-24T15:00:00Z')).toBe('2026-11-24 15:00 UTC');
  });
});
