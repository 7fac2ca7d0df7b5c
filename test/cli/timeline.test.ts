import type { Bundle, Observation, Patient } from 'fhir/r4';
import { asTransaction, readBundle, readManifest, type ExampleEntry } from '../../src/cli/examples';
import { examplesDir } from '../../src/config/paths';
import { loadParameters } from '../../src/config/parameters';
import { MomentError, parseMoment, placeExample, resolveMoment, shiftTime, shiftTimes } from '../../src/cli/timeline';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const SUSTAINED = loadParameters().values.sustainedHours;
const NOW = Date.parse('2026-12-03T09:41:27.345Z');

describe('shifting one time', () => {
  it('when it is an instant or dateTime, it moves by the offset exactly, keeping its zone and precision', () => {
    expect(shiftTime('2026-02-09T08:20:00Z', 3 * HOUR)).toBe('2026-02-09T11:20:00Z');
    expect(shiftTime('2026-02-09T23:20Z', 2 * HOUR)).toBe('2026-02-10T01:20Z');
    expect(shiftTime('2026-02-09T08:20:00.250+01:00', DAY + 90_000)).toBe('2026-02-10T08:21:30.250+01:00');
    expect(shiftTime('2026-03-01T00:30:00-05:00', -HOUR)).toBe('2026-02-28T23:30:00-05:00');
    expect(shiftTime('2026-02-09T08:20:00.1Z', 100)).toBe('2026-02-09T08:20:00.2Z');
  });

  it('when it is a date without a time, it moves by the nearest whole number of days', () => {
    expect(shiftTime('1984-02-09', 10 * DAY + 11 * HOUR)).toBe('1984-02-19');
    expect(shiftTime('1984-02-09', 10 * DAY + 13 * HOUR)).toBe('1984-02-20');
    expect(shiftTime('2024-02-28', DAY)).toBe('2024-02-29');
  });

  it('when it is a year or year-month under a date key, it moves by whole months or years; elsewhere it stays', () => {
    expect(shiftTime('2010-05', 300 * DAY, 'onsetDateTime')).toBe('2011-03');
    expect(shiftTime('2010', 300 * DAY, 'onsetDateTime')).toBe('2011');
    expect(shiftTime('2010', 300 * DAY, 'valueString')).toBe('2010');
    expect(shiftTime('mg/kg/h', 300 * DAY, 'unit')).toBe('mg/kg/h');
  });

  it('when a string sits under an id, reference, code or narrative, it is left alone', () => {
    const resource = {
      resourceType: 'Observation',
      id: '2026-02-09',
      code: { coding: [{ system: 'http://example.org', code: '2026-02-09T08:00:00Z' }] },
      subject: { reference: 'Patient/2026-02-09' },
      effectiveDateTime: '2026-02-09T08:00:00Z',
    };
    expect(shiftTimes(resource, DAY)).toEqual({ ...resource, effectiveDateTime: '2026-02-10T08:00:00Z' });
  });
});

describe('moments of an example', () => {
  const manifest = readManifest(examplesDir());
  const case1 = manifest.find((e) => e.patientId === 'case1-patient') as ExampleEntry;
  const case4 = manifest.find((e) => e.patientId === 'case4-patient') as ExampleEntry;
  const missingEkg = manifest.find((e) => e.patientId === 'missing-ekg-patient') as ExampleEntry;
  const at = (entry: ExampleEntry, text: string) => resolveMoment(entry, parseMoment(text), SUSTAINED);
  const scenario = (entry: ExampleEntry, rule: string) =>
    Date.parse(entry.scenarioTimes?.find((t) => t.expectedRuleId === rule)?.at ?? '');

  it('when named, it is the scenario time (the demo page chip) with that rule', () => {
    expect(at(case1, 'work-up')).toMatchObject({ atMs: scenario(case1, 'S2'), expectedRuleId: 'S2' });
    expect(at(case1, 'titration')).toMatchObject({ atMs: scenario(case1, 'T8'), expectedRuleId: 'T8' });
    expect(at(case1, 'taper')).toMatchObject({ atMs: scenario(case1, 'T4'), expectedRuleId: 'T4' });
    expect(at(case1, 'done')).toMatchObject({ atMs: scenario(case1, 'X1'), expectedRuleId: 'X1' });
    expect(at(case4, 'target')).toMatchObject({ atMs: scenario(case4, 'T6'), expectedRuleId: 'T6' });
  });

  it('when the example charts no hold at target, target is half a sustained run before the taper', () => {
    expect(at(case1, 'target')).toMatchObject({
      atMs: scenario(case1, 'T4') - (SUSTAINED * HOUR) / 2,
      expectedRuleId: 'T6',
    });
  });

  it('when the example has no such moment, it falls back to its first scenario time and says so', () => {
    // The missing-EKG patient never starts: it has no titration moment.
    const placed = at(missingEkg, 'titration');
    expect(placed.atMs).toBe(Date.parse(missingEkg.scenarioTimes?.[0]?.at ?? ''));
    expect(placed.fallback).toContain('titration');
  });

  it('when an offset is given, it is added to the moment (a bare duration counts from admission)', () => {
    expect(at(case1, 'taper+1h30m').atMs).toBe(scenario(case1, 'T4') + 1.5 * HOUR);
    expect(at(case1, 'work-up-20m').atMs).toBe(scenario(case1, 'S2') - 20 * 60_000);
    expect(at(case1, '+36h').atMs).toBe(Date.parse(String(case1.admission)) + 36 * HOUR);
    expect(at(case1, 'infusion+2d').atMs).toBe(Date.parse(String(case1.infusionStart)) + 2 * DAY);
    expect(at(case1, '2026-02-09T13:40:00Z').atMs).toBe(Date.parse('2026-02-09T13:40:00Z'));
  });

  it.each(['lunch', 'taper+soon', '', 'titration+'])('when the moment is "%s", it is refused with the list', (text) => {
    expect(() => parseMoment(text)).toThrow(MomentError);
  });
});

describe('placing a whole example at a moment', () => {
  const manifest = readManifest(examplesDir());
  const entry = manifest.find((e) => e.patientId === 'case2-patient') as ExampleEntry;
  const bundle: Bundle = asTransaction(readBundle(examplesDir(), entry.file));
  const placed = placeExample(entry, bundle, parseMoment('titration'), NOW, SUSTAINED);
  const times = (b: Bundle) =>
    (b.entry ?? [])
      .map((e) => e.resource)
      .filter((r): r is Observation => r?.resourceType === 'Observation')
      .map((o) => Date.parse(o.effectiveDateTime ?? ''));

  it('when placed, now (to the minute) is the moment, and every interval between charted times is kept', () => {
    const titration = placed.entry.scenarioTimes?.find((t) => t.expectedRuleId === 'T8')?.at ?? '';
    expect(Date.parse(titration)).toBe(Math.floor(NOW / 60_000) * 60_000);
    const before = times(bundle);
    const after = times(placed.bundle);
    expect(after.map((t, i) => t - (before[i] ?? 0))).toEqual(before.map(() => placed.offsetMs));
    expect(placed.offsetMs % 60_000).toBe(0);
  });

  it('when placed, the patient keeps her age (birthDate moves by whole days) and ids and references stay', () => {
    const patient = (b: Bundle) => b.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource as Patient;
    const days = Math.round(placed.offsetMs / DAY);
    expect(Date.parse(patient(placed.bundle).birthDate ?? '') - Date.parse(patient(bundle).birthDate ?? '')).toBe(
      days * DAY,
    );
    expect(placed.bundle.entry?.map((e) => [e.fullUrl, e.resource?.id, e.request?.url])).toEqual(
      bundle.entry?.map((e) => [e.fullUrl, e.resource?.id, e.request?.url]),
    );
  });

  it('when placed twice in the same minute, the bundles are identical; the source is not changed', () => {
    const again = placeExample(entry, bundle, parseMoment('titration'), NOW + 20_000, SUSTAINED);
    expect(again.bundle).toEqual(placed.bundle);
    expect(asTransaction(readBundle(examplesDir(), entry.file))).toEqual(bundle);
  });
});
