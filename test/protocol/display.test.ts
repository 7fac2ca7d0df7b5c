/**
 * The one formatter for times and units that the decision core's notes and the cards share, so a note
 * reads "2026-02-09 10:00 UTC" and "118 mmHg" like the rest of the card.
 */
import { displayQuantity, displayTime, displayUnit } from '../../src/protocol/display';
import { judgeVitals } from '../../src/protocol/safety';
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

  it('a note about a vital too old to judge uses them: "Systolic blood pressure 118 mmHg at … UTC"', () => {
    const { notes } = judgeVitals(
      [
        { kind: 'sbp', id: 'v-sbp', time: h(3), value: 118, unit: 'mm[Hg]' },
        { kind: 'spo2', id: 'v-spo2', time: h(3), value: 97, unit: '%' },
      ],
      params,
      NOW,
    );
    expect(notes).toEqual([
      'Systolic blood pressure 118 mmHg at 2026-11-24 09:00 UTC is older than 2 h: not judged.',
      'Oxygen saturation 97% at 2026-11-24 09:00 UTC is older than 2 h: not judged.',
    ]);
  });
});
