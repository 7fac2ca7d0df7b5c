import type { Bundle, Encounter, MedicationAdministration, Observation, Patient } from 'fhir/r4';
import { asOf, prefetchAsOf } from '../../src/cli/as-of';

const NOW = Date.parse('2026-03-10T11:00:00Z');
const pain = (id: string, at: string): Observation => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code: { text: 'pain' },
  effectiveDateTime: at,
});

describe('the record as the EHR held it at the scenario time (--now)', () => {
  it('leaves out what was charted later and keeps what came before or has no time', () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: 3,
      entry: [
        { resource: pain('before', '2026-03-10T10:59:00Z') },
        { resource: pain('after', '2026-03-10T11:01:00Z') },
        { resource: { resourceType: 'Patient', id: 'p' } as Patient },
      ],
    };
    const seen = prefetchAsOf(bundle, NOW) as Bundle;
    expect(seen.entry?.map((e) => e.resource?.id)).toEqual(['before', 'p']);
    expect(seen.total).toBe(2);
    expect(bundle.entry).toHaveLength(3);
  });

  it('shows an infusion segment that ended later as still running then', () => {
    const ma: MedicationAdministration = {
      resourceType: 'MedicationAdministration',
      id: 'm',
      status: 'completed',
      subject: {},
      medicationCodeableConcept: { text: 'ketamine' },
      effectivePeriod: { start: '2026-03-10T08:00:00Z', end: '2026-03-10T14:00:00Z' },
    };
    expect(asOf(ma, NOW)).toMatchObject({ status: 'in-progress', effectivePeriod: { start: '2026-03-10T08:00:00Z' } });
    expect(asOf(ma, NOW)?.effectivePeriod?.end).toBeUndefined();
    expect(asOf(ma, Date.parse('2026-03-10T15:00:00Z'))).toBe(ma);
    expect(asOf(ma, Date.parse('2026-03-10T07:00:00Z'))).toBeNull();
  });

  it('shows an encounter discharged later as in progress', () => {
    const enc: Encounter = {
      resourceType: 'Encounter',
      id: 'e',
      status: 'finished',
      class: { code: 'IMP' },
      period: { start: '2026-03-09T18:00:00Z', end: '2026-03-12T10:00:00Z' },
    };
    expect(asOf(enc, NOW)).toMatchObject({ status: 'in-progress', period: { start: '2026-03-09T18:00:00Z' } });
  });

  it('passes null ("no data") through', () => {
    expect(prefetchAsOf(null, NOW)).toBeNull();
  });
});
