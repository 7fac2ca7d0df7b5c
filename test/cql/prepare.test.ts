/** The pre-pass before CQL: one flat record, references in Type/id form, the caller's bundle untouched. */
import type { Bundle, MedicationAdministration, MedicationRequest } from 'fhir/r4';
import { prepareBundle } from '../../src/cql';

const med = { resourceType: 'Medication', id: 'm', code: { text: 'ketamine' } };

describe('preparing a record for CQL', () => {
  it('hoists a contained Medication referenced by #id into the bundle and points the reference at it', () => {
    const input: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', id: 'p1' } },
        {
          resource: {
            resourceType: 'MedicationRequest',
            id: 'mr1',
            status: 'draft',
            intent: 'order',
            subject: { reference: 'Patient/p1' },
            contained: [med as never],
            medicationReference: { reference: '#m', display: 'ketamine drip' },
          },
        },
      ],
    };
    const before = JSON.stringify(input);
    const { bundle, patientId } = prepareBundle(input);
    expect(patientId).toBe('p1');
    const resources = (bundle.entry ?? []).map((e) => e.resource);
    const request = resources.find((r) => r?.resourceType === 'MedicationRequest') as MedicationRequest;
    expect(request.medicationReference).toEqual({
      reference: 'Medication/MedicationRequest-mr1-m',
      display: 'ketamine drip',
    });
    expect(resources).toContainEqual({ ...med, id: 'MedicationRequest-mr1-m' });
    expect(JSON.stringify(input)).toBe(before);
  });

  it('flattens nested bundles and rewrites urn:uuid and absolute references to Type/id', () => {
    const input: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: [
        { resource: { resourceType: 'Patient', id: 'p1' } },
        {
          resource: {
            resourceType: 'Bundle',
            type: 'collection',
            entry: [
              {
                fullUrl: 'urn:uuid:0d9a1c1e-0000-4000-8000-000000000001',
                resource: {
                  resourceType: 'MedicationRequest',
                  id: 'mr9',
                  status: 'draft',
                  intent: 'order',
                  subject: {},
                },
              },
            ],
          },
        },
        {
          resource: {
            resourceType: 'MedicationAdministration',
            id: 'ma1',
            status: 'in-progress',
            subject: {},
            effectiveDateTime: '2026-11-24T08:00:00Z',
            medicationReference: { reference: 'https://ehr.example.org/fhir/Medication/m/_history/3' },
            request: { reference: 'urn:uuid:0d9a1c1e-0000-4000-8000-000000000001' },
          },
        },
      ],
    };
    const resources = (prepareBundle(input).bundle.entry ?? []).map((e) => e.resource);
    expect(resources.map((r) => r?.resourceType)).toEqual(['Patient', 'MedicationRequest', 'MedicationAdministration']);
    const ma = resources[2] as MedicationAdministration;
    expect(ma.medicationReference?.reference).toBe('Medication/m');
    expect(ma.request?.reference).toBe('MedicationRequest/mr9');
  });

  it('gives a resource without an id a stable one, so its facts can name it', () => {
    const input: Bundle = {
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        { resource: { resourceType: 'Patient', id: 'p1' } },
        { resource: { resourceType: 'Observation', status: 'final', code: {} } },
      ],
    };
    expect(prepareBundle(input).bundle.entry?.[1]?.resource?.id).toBe('observation-entry-1');
    expect(prepareBundle(input).bundle.entry?.[1]?.resource?.id).toBe('observation-entry-1');
    expect(input.entry?.[1]?.resource?.id).toBeUndefined();
  });

  it('a record without a Patient is a 412 (the prefetch lacked the patient)', () => {
    expect(() => prepareBundle({ resourceType: 'Bundle', type: 'collection', entry: [] })).toThrow(
      /no Patient resource/,
    );
  });
});
