import nock from 'nock';
import { OperationOutcomeError } from '../../src/errors';
import { gather } from '../../src/fhir/gather';
import { createLogger } from '../../src/log';
import { assertTokenPatientMatches } from '../../src/security/fhir-authorization';
import type { CdsRequest, FhirAuthorization, ServiceDefinition } from '../../src/contract/cds-hooks';

const BASE = 'https://ehr.example.org/fhir';
const auth = (patient?: string): FhirAuthorization => ({
  access_token: 'token-for-one-patient',
  token_type: 'Bearer',
  expires_in: 300,
  scope: 'patient/*.read',
  subject: 'cds-service',
  ...(patient === undefined ? {} : { patient }),
});
const request = (patientId: string, patient?: string): CdsRequest => ({
  hook: 'patient-view',
  hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
  fhirServer: BASE,
  fhirAuthorization: auth(patient),
  context: { patientId },
});

const refusal = (fn: () => unknown): OperationOutcomeError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OperationOutcomeError);
    return err as OperationOutcomeError;
  }
  throw new Error('expected a 400');
};

describe('CH-J9 the access token’s patient', () => {
  it('when fhirAuthorization.patient is the context patient (bare id or Patient/id), the call goes on', () => {
    expect(() => assertTokenPatientMatches(request('123', '123'))).not.toThrow();
    expect(() => assertTokenPatientMatches(request('Patient/123', '123'))).not.toThrow();
    expect(() => assertTokenPatientMatches(request('123', 'Patient/123'))).not.toThrow();
  });

  it('when fhirAuthorization carries no patient, there is nothing to compare', () => {
    expect(() => assertTokenPatientMatches(request('123'))).not.toThrow();
    const { fhirAuthorization: _a, ...anonymous } = request('123');
    expect(() => assertTokenPatientMatches(anonymous)).not.toThrow();
  });

  it('when fhirAuthorization.patient names another patient, it answers 400 naming the field, not the ids', () => {
    const err = refusal(() => assertTokenPatientMatches(request('123', '456')));
    expect(err.status).toBe(400);
    expect(err.outcome.issue[0]?.expression).toEqual(['fhirAuthorization.patient']);
    expect(JSON.stringify(err.outcome)).not.toMatch(/123|456/);
  });

  it('when fhirAuthorization.patient is not a string, it answers 400', () => {
    const odd = { ...request('123'), fhirAuthorization: { ...auth(), patient: 123 as unknown as string } };
    expect(refusal(() => assertTokenPatientMatches(odd)).status).toBe(400);
  });

  it('when gathering with a token bound to another patient, it answers 400 before any FHIR request', async () => {
    nock.disableNetConnect();
    const scope = nock(BASE).get(/.*/).reply(200, { resourceType: 'Patient', id: '123' });
    try {
      const definition: ServiceDefinition = {
        id: 's',
        hook: 'patient-view',
        title: 't',
        description: 'd',
        prefetch: { patient: 'Patient/{{context.patientId}}' },
      };
      const err = await gather(definition, request('123', '456'), {
        allowlist: [BASE],
        timeoutMs: 1000,
        maxPages: 1,
        logger: createLogger({ level: 'silent' }),
      }).catch((e: unknown) => e);
      expect((err as OperationOutcomeError).status).toBe(400);
      expect(scope.isDone()).toBe(false);
    } finally {
      nock.cleanAll();
      nock.enableNetConnect();
    }
  });
});
