import { renderTemplate, validatePrefetchTemplates, validateTemplate } from '../../src/fhir/prefetch-template';
import { OperationOutcomeError } from '../../src/errors';
import type { CdsRequest } from '../../src/contract/cds-hooks';

const request = (context: Record<string, unknown>): CdsRequest => ({
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  context: { patientId: '123', ...context },
});

describe('rendering a prefetch template', () => {
  it('substitutes context tokens into reads and searches', () => {
    const req = request({ patientId: '123', encounterId: 'enc-9' });
    expect(renderTemplate('Patient/{{context.patientId}}', req)).toBe('Patient/123');
    expect(renderTemplate('Encounter/{{context.encounterId}}', req)).toBe('Encounter/enc-9');
    expect(renderTemplate('Observation?patient={{context.patientId}}&_count=500&_sort=-date', req)).toBe(
      'Observation?patient=123&_count=500&_sort=-date',
    );
  });

  it('CH-P3 URL-encodes token values so a value cannot add parameters or path segments', () => {
    const req = request({ patientId: 'a b&_include=*/x' });
    expect(renderTemplate('Observation?patient={{context.patientId}}', req)).toBe(
      'Observation?patient=a%20b%26_include%3D*%2Fx',
    );
    expect(renderTemplate('Patient/{{context.patientId}}', req)).toBe('Patient/a%20b%26_include%3D*%2Fx');
  });

  it('refuses a dot-segment id that would walk out of the resource path', () => {
    expect(() => renderTemplate('Patient/{{context.patientId}}', request({ patientId: '..' }))).toThrow(
      OperationOutcomeError,
    );
  });

  it('CH-R6 tolerates patientId sent as Patient/123 (an EHR quirk)', () => {
    const req = request({ patientId: 'Patient/123' });
    expect(renderTemplate('Patient/{{context.patientId}}', req)).toBe('Patient/123');
    expect(renderTemplate('Condition?patient={{context.patientId}}', req)).toBe('Condition?patient=123');
  });

  it('derives the user tokens from context.userId by resource type', () => {
    const practitioner = request({ userId: 'Practitioner/abc' });
    expect(renderTemplate('Practitioner/{{userPractitionerId}}', practitioner)).toBe('Practitioner/abc');
    expect(renderTemplate('PractitionerRole/{{userPractitionerRoleId}}', practitioner)).toBeNull();
    expect(renderTemplate('Patient/{{userPatientId}}', practitioner)).toBeNull();

    expect(
      renderTemplate('PractitionerRole/{{userPractitionerRoleId}}', request({ userId: 'PractitionerRole/r1' })),
    ).toBe('PractitionerRole/r1');
    expect(renderTemplate('Patient/{{userPatientId}}', request({ userId: 'Patient/p7' }))).toBe('Patient/p7');
    expect(renderTemplate('RelatedPerson/{{userRelatedPersonId}}', request({ userId: 'RelatedPerson/rp' }))).toBe(
      'RelatedPerson/rp',
    );
  });

  it('returns null when a token has no value (no encounterId: that key yields no data)', () => {
    expect(renderTemplate('Encounter/{{context.encounterId}}', request({}))).toBeNull();
    expect(renderTemplate('Encounter/{{context.encounterId}}', request({ encounterId: '' }))).toBeNull();
    expect(renderTemplate('Practitioner/{{userPractitionerId}}', request({}))).toBeNull();
  });

  it('returns null for a context field that is not a primitive', () => {
    expect(renderTemplate('X?y={{context.selections}}', request({ selections: ['MedicationRequest/1'] }))).toBeNull();
  });
});

describe('CH-D3 validating prefetch templates at startup', () => {
  it.each([
    'Patient/{{context.patientId}}',
    'Encounter/{{context.encounterId}}',
    'Observation?patient={{context.patientId}}&_count=500&_sort=-date',
    'Observation?patient={{context.patientId}}&date=ge2024-01-01&_sort=-date',
    'Observation?subject=Patient/{{context.patientId}}&code=http://loinc.org|72514-3,http://loinc.org|38208-5',
    'MedicationRequest?patient={{context.patientId}}&status=active,completed',
    'MedicationAdministration?patient={{context.patientId}}',
    'Condition?patient={{context.patientId}}&code:in=http://example.org/fhir/ValueSet/migraine',
    'AdverseEvent?subject={{context.patientId}}',
    'Encounter?patient={{context.patientId}}&date=lt2030-01-01',
    'Practitioner/{{userPractitionerId}}',
    'PractitionerRole/{{userPractitionerRoleId}}',
    'Medication?_id=abc',
  ])('accepts %s', (template) => {
    expect(validateTemplate(template)).toEqual([]);
  });

  it.each([
    ['Patient/{{context.patient.id}}', /not allowed/],
    ['Patient/{{userId}}', /not allowed/],
    ['Patient/{{ context.patientId }}', /whitespace/],
    ['MedicationRequest?_id={{context.draftOrders}}', /not a primitive/],
    ['Patient/{{context.patientId}', /braces/],
    ['https://evil.example/Patient/{{context.patientId}}', /relative/],
    ['/Patient/{{context.patientId}}', /relative/],
    ['Observation?patient={{context.patientId}}&_include=Observation:subject', /_include/],
    ['Observation?patient={{context.patientId}}&_revinclude=Provenance:target', /_revinclude/],
    ['Observation?patient.name=smith', /chained/],
    ['Observation?patient={{context.patientId}}&code:text=pain', /modifier :text/],
    ['Observation?patient={{context.patientId}}&date=sa2024-01-01', /prefix sa/],
    ['Observation?patient={{context.patientId}}&_count=all', /_count/],
    ['Observation?patient={{context.patientId}}&_sort=date;drop', /_sort/],
    ['Patient/{{context.patientId}}/_history', /only instance reads/],
    ['Patient/{{context.patientId}}/Observation', /only instance reads/],
    ['Patient/$everything', /not an id/],
    ['observation?patient=1', /not a resource type/],
    ['Observation', /neither a read/],
    ['Observation?', /at least one parameter/],
    ['Observation?{{context.patientId}}=1', /contains a token/],
    ['Observation?patient', /no value/],
    ['', /empty/],
  ])('rejects %s', (template, problem) => {
    const problems = validateTemplate(template);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('; ')).toMatch(problem);
  });

  it('reports every bad key of a definition with its key name', () => {
    const problems = validatePrefetchTemplates({
      patient: 'Patient/{{context.patientId}}',
      labs: 'Observation?patient={{context.patientId}}&_include=Observation:subject',
      user: '{{context.userId}}',
    });
    expect(problems.some((p) => p.startsWith('prefetch.labs:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('prefetch.user:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('prefetch.patient:'))).toBe(false);
  });
});
