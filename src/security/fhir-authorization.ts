/**
 * The access token the EHR hands over (`fhirAuthorization`, CDS Hooks 2.0 §Passing the Access Token) is
 * bound to one patient when it carries `patient`: that must be the patient of the hook's context, or the
 * service would read one patient's record with a token issued for another (or mix two records). A
 * mismatch is the caller's error: 400, naming the field, never the ids.
 */
import { badRequest } from '../errors';
import { normalizeContextId } from '../fhir/prefetch-template';
import type { CdsRequest } from '../contract/cds-hooks';

/** Throws a 400 OperationOutcomeError when fhirAuthorization.patient names another patient than the context. */
export function assertTokenPatientMatches(request: Pick<CdsRequest, 'fhirAuthorization' | 'context'>): void {
  const tokenPatient = request.fhirAuthorization?.patient;
  if (tokenPatient === undefined || tokenPatient === null) return;
  const contextPatient = request.context?.patientId;
  const same =
    typeof tokenPatient === 'string' &&
    typeof contextPatient === 'string' &&
    normalizeContextId('patientId', tokenPatient) === normalizeContextId('patientId', contextPatient);
  if (!same)
    throw badRequest('fhirAuthorization.patient must be the patient of context.patientId', [
      'fhirAuthorization.patient',
    ]);
}
