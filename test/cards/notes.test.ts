/**
 * The core says which vital sign it could not judge, and why; the cards put it in words, with the one table
 * of vital-sign labels (src/cards/text.ts): "Oxygen saturation" in a sentence, "SpO2" in the vital-signs line.
 */
import { contraindicationText, noteText, VITAL_LABELS } from '../../src/cards/text';
import type { Note } from '../../src/protocol/recommendation';

const AT = '2026-11-24T09:00:00Z';

describe('vital-sign notes and breaches in the words of the cards', () => {
  it.each<[Note, string]>([
    [{ vitalNote: 'no-time', kind: 'hr' }, 'A heart rate has no readable time: not judged.'],
    [
      { vitalNote: 'after-now', kind: 'sbp', time: AT },
      'Systolic blood pressure charted at 2026-11-24 09:00 UTC is dated after the evaluation time: ignored.',
    ],
    [
      { vitalNote: 'unit', kind: 'sbp', value: 24, unit: 'kPa', expectedUnit: 'mm[Hg]', time: AT },
      'Systolic blood pressure 24 at 2026-11-24 09:00 UTC is in unit "kPa" (expected mmHg): not judged.',
    ],
    [
      {
        vitalNote: 'too-old',
        maxAgeHours: 2,
        vitals: [{ kind: 'spo2', value: 97, unit: '%', time: AT }],
      },
      'Not judged, older than 2 h: oxygen saturation 97% (2026-11-24 09:00 UTC).',
    ],
  ])('when the core notes %j, the card says: %s', (note, text) => {
    expect(noteText(note)).toBe(text);
  });

  it("when a note is the core's sentence, the card says it as it is", () => {
    expect(noteText('Age is unknown: the minimum age could not be checked.')).toBe(
      'Age is unknown: the minimum age could not be checked.',
    );
  });

  it('when a vital sign breaches a limit, the card names the reading and the limit', () => {
    const vital = { kind: 'spo2', value: 90, unit: '%', time: AT, breach: { bound: 'low', limit: 92 } } as const;
    expect(contraindicationText({ code: 'vital-breach', vital, time: AT })).toBe('Oxygen saturation 90% (below 92%)');
    expect(contraindicationText({ code: 'psychosis', display: 'Schizophrenia', time: null })).toBe('Schizophrenia');
  });

  it('each vital has a name for sentences and a short label for the vital-signs line', () => {
    expect(VITAL_LABELS.spo2).toEqual({ name: 'Oxygen saturation', short: 'SpO2' });
    expect(VITAL_LABELS.sbp.name).toBe('Systolic blood pressure');
  });
});
