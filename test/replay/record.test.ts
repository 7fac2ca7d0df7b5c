/**
 * The replay harness itself: "the record as it stood at T" must never show the future, and must show
 * the rate that was running at T as still running.
 */
import type { MedicationAdministration } from 'fhir/r4';
import { chartedAt, loadExample, offsetToIso, painAssessments, recordAt } from './record';

const FILE = 'case1-chronic-migraine-mg-per-hour.json';
const START = '2026-02-09T10:10:00Z';

describe('the record as it stood at a time T', () => {
  const full = loadExample(FILE);
  const at = offsetToIso(START, '5:30');
  const record = recordAt(full, Date.parse(at));
  const admins = (record.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is MedicationAdministration => r?.resourceType === 'MedicationAdministration');

  it('when a resource was charted after T, it is not in the record', () => {
    for (const e of record.entry ?? []) {
      const time = e.resource ? chartedAt(e.resource) : null;
      if (time !== null) expect(Date.parse(time)).toBeLessThanOrEqual(Date.parse(at));
    }
    expect(painAssessments(record).map((p) => p.time)).toEqual([
      offsetToIso(START, '-1:50'),
      offsetToIso(START, '-0:10'),
      offsetToIso(START, '1:30'),
      offsetToIso(START, '3:30'),
      offsetToIso(START, '5:30'),
    ]);
  });

  it('when the rate running at T changed later, its administration is still in progress with no end', () => {
    expect(admins.map((a) => [a.effectivePeriod?.start, a.effectivePeriod?.end ?? null, a.status])).toEqual([
      [offsetToIso(START, '0:00'), offsetToIso(START, '3:40'), 'completed'],
      [offsetToIso(START, '3:40'), null, 'in-progress'],
    ]);
  });

  it('the example bundle itself is left unchanged', () => {
    expect(full).toEqual(loadExample(FILE));
  });
});
