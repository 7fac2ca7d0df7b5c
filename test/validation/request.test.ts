import { OperationOutcomeError } from '../../src/errors';
import { toExpression, validateRequest } from '../../src/validation/request';
import { ketamineDraft, orderRequest, patientViewRequest } from '../support/service';

const PV = { hook: 'patient-view' as const };
const OS = { hook: 'order-select' as const };
const SIGN = { hook: 'order-sign' as const };

/** The 400 a body gets, as { diagnostics, expression }; fails the test when the body is accepted. */
function rejection(body: unknown, definition: { hook: 'patient-view' | 'order-select' | 'order-sign' } = PV) {
  try {
    validateRequest(body, definition);
  } catch (err) {
    expect(err).toBeInstanceOf(OperationOutcomeError);
    const e = err as OperationOutcomeError;
    expect(e.status).toBe(400);
    expect(e.outcome.resourceType).toBe('OperationOutcome');
    const issue = e.outcome.issue[0];
    return { diagnostics: issue?.diagnostics ?? '', expression: issue?.expression ?? [] };
  }
  throw new Error('the request was accepted');
}

const pv = (mutate: (body: Record<string, any>) => void = () => undefined) => {
  const body = patientViewRequest('p1') as Record<string, any>;
  mutate(body);
  return body;
};

describe('request validation: the envelope (CH-R1)', () => {
  it.each(['hook', 'hookInstance', 'context'])('CH-R1 a request without %s is a 400 naming the field', (field) => {
    const { diagnostics, expression } = rejection(pv((b) => delete b[field]));
    expect(expression).toEqual([field]);
    expect(diagnostics).toContain(field);
  });

  it('CH-R1 a request for another hook than the service handles is a 400 on hook', () => {
    const { expression, diagnostics } = rejection(pv((b) => (b.hook = 'order-sign')));
    expect(expression).toEqual(['hook']);
    expect(diagnostics).toMatch(/patient-view/);
  });

  it.each([null, [], 'text', 42])('CH-R1 a body that is not a JSON object (%p) is a 400', (body) => {
    expect(rejection(body).diagnostics).toMatch(/JSON object/);
  });

  it('CH-R1 a context that is not an object is a 400 on context', () => {
    expect(rejection(pv((b) => (b.context = 'p1'))).expression).toEqual(['context']);
  });

  it('a well-formed patient-view request is accepted and returned with its fields', () => {
    const body = pv();
    const request = validateRequest(body, PV);
    expect(request.hookInstance).toBe(body.hookInstance);
    expect(request.context.patientId).toBe('p1');
    expect(request.prefetch).toEqual(body.prefetch);
  });
});

describe('request validation: the hook context (CH-R2)', () => {
  it('CH-R2 patient-view needs userId as Type/id', () => {
    expect(rejection(pv((b) => (b.context.userId = 'example'))).expression).toEqual(['context.userId']);
    expect(rejection(pv((b) => delete b.context.userId)).expression).toEqual(['context.userId']);
  });

  it('CH-R2 patient-view needs patientId', () => {
    const { expression, diagnostics } = rejection(pv((b) => delete b.context.patientId));
    expect(expression).toEqual(['context.patientId']);
    expect(diagnostics).toBe('context.patientId is required');
  });

  it('CH-R2 a patientId that is not a FHIR id is a 400 (it would end up in a FHIR query)', () => {
    expect(rejection(pv((b) => (b.context.patientId = '../../admin'))).expression).toEqual(['context.patientId']);
  });

  it('CH-R2 encounterId is optional on patient-view', () => {
    expect(
      validateRequest(
        pv((b) => delete b.context.encounterId),
        PV,
      ).context.encounterId,
    ).toBeUndefined();
  });

  it('CH-R2 order-select needs at least one selection', () => {
    const body = orderRequest('order-select', 'p1', [ketamineDraft('d1', 0.3)], []);
    expect(rejection(body, OS).expression).toEqual(['context.selections']);
  });

  it('CH-R2 order-select: each selection must resolve to a draftOrders entry, else a 400 naming it', () => {
    const body = orderRequest(
      'order-select',
      'p1',
      [ketamineDraft('d1', 0.3)],
      ['MedicationRequest/d1', 'MedicationRequest/nope'],
    );
    const { expression, diagnostics } = rejection(body, OS);
    expect(expression).toEqual(['context.selections[1]']);
    expect(diagnostics).toMatch(/draftOrders/);
  });

  it('CH-R2 order-select: a selection that is not Type/id is a 400 naming it', () => {
    const body = orderRequest('order-select', 'p1', [ketamineDraft('d1', 0.3)], ['d1']);
    expect(rejection(body, OS).expression).toEqual(['context.selections[0]']);
  });

  it('CH-R2 order-select and order-sign need draftOrders as a Bundle', () => {
    const select = orderRequest('order-select', 'p1', [ketamineDraft('d1', 0.3)]) as Record<string, any>;
    select.context.draftOrders = { resourceType: 'List' };
    expect(rejection(select, OS).expression).toEqual(['context.draftOrders.resourceType']);
    const sign = orderRequest('order-sign', 'p1', [ketamineDraft('d1', 0.3)]) as Record<string, any>;
    delete sign.context.draftOrders;
    expect(rejection(sign, SIGN).expression).toEqual(['context.draftOrders']);
  });

  it('CH-R2 order-sign needs no selections and accepts its drafts', () => {
    const request = validateRequest(orderRequest('order-sign', 'p1', [ketamineDraft('d1', 0.3)]), SIGN);
    expect(request.context.draftOrders?.entry).toHaveLength(1);
  });
});

describe('request validation: FHIR authorization (CH-R3)', () => {
  const auth = {
    access_token: 'secret-access-token-123',
    token_type: 'Bearer',
    expires_in: 300,
    scope: 'patient/*.read',
    subject: 'cds-service',
  };

  it('CH-R3 fhirAuthorization without fhirServer is a 400 on fhirServer', () => {
    const { expression } = rejection(pv((b) => (b.fhirAuthorization = auth)));
    expect(expression).toEqual(['fhirServer']);
  });

  it.each(['access_token', 'token_type', 'expires_in', 'scope', 'subject'])(
    'CH-R3 fhirAuthorization without %s is a 400 naming it',
    (field) => {
      const partial: Record<string, unknown> = { ...auth };
      delete partial[field];
      const { expression } = rejection(
        pv((b) => Object.assign(b, { fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: partial })),
      );
      expect(expression).toEqual([`fhirAuthorization.${field}`]);
    },
  );

  it('CH-R3 a token_type other than Bearer is a 400, and no error message repeats the access token', () => {
    const body = pv((b) =>
      Object.assign(b, {
        fhirServer: 'https://ehr.example.org/fhir',
        fhirAuthorization: { ...auth, token_type: 'MAC' },
      }),
    );
    const { expression, diagnostics } = rejection(body);
    expect(expression).toEqual(['fhirAuthorization.token_type']);
    expect(diagnostics).not.toContain(auth.access_token);
  });

  it('CH-R3 a fhirServer that is not an absolute http(s) URL is a 400', () => {
    expect(rejection(pv((b) => (b.fhirServer = 'file:///etc/passwd'))).expression).toEqual(['fhirServer']);
  });

  it('CH-R3 a complete fhirAuthorization with fhirServer is accepted', () => {
    const request = validateRequest(
      pv((b) => Object.assign(b, { fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: auth })),
      PV,
    );
    expect(request.fhirAuthorization?.subject).toBe('cds-service');
  });
});

describe('request validation: tolerance', () => {
  it('CH-R5 unknown fields and extension are accepted and ignored', () => {
    const body = pv((b) => {
      b.extension = { 'com.example.ehr': { tenant: 'x' } };
      b.somethingNew = [1, 2];
      b.context.extraContext = { anything: true };
    });
    const request = validateRequest(body, PV);
    expect(request.context.patientId).toBe('p1');
    expect(request.extension).toEqual(body.extension);
  });

  it('CH-R6 patientId sent as Patient/123 is tolerated and normalized to the id', () => {
    const request = validateRequest(
      pv((b) => {
        b.context.patientId = 'Patient/123';
        b.context.encounterId = 'Encounter/9';
      }),
      PV,
    );
    expect(request.context.patientId).toBe('123');
    expect(request.context.encounterId).toBe('9');
  });

  it('CH-R6 the caller’s body is not modified by normalization', () => {
    const body = pv((b) => (b.context.patientId = 'Patient/123'));
    validateRequest(body, PV);
    expect(body.context.patientId).toBe('Patient/123');
  });

  it('a prefetch value must be a resource or null: anything else is a 400 naming the key', () => {
    expect(rejection(pv((b) => (b.prefetch.patient = 'Jane Doe'))).expression).toEqual(['prefetch.patient']);
    expect(rejection(pv((b) => (b.prefetch.patient = { name: 'no type' }))).expression).toEqual([
      'prefetch.patient.resourceType',
    ]);
    expect(
      validateRequest(
        pv((b) => (b.prefetch.conditions = null)),
        PV,
      ).prefetch?.conditions,
    ).toBeNull();
  });
});

describe('field paths', () => {
  it('turns JSON pointers into FHIRPath-like expressions', () => {
    expect(toExpression('/context/selections/0', '')).toBe('context.selections[0]');
    expect(toExpression('/userId', 'context')).toBe('context.userId');
    expect(toExpression('', 'context')).toBe('context');
    expect(toExpression('/prefetch/a~1b')).toBe('prefetch.a/b');
  });
});

describe('CH-B6 every input has a limit: ids, texts and lists too long answer 400 naming the field', () => {
  it.each<[string, (body: Record<string, any>) => void, string]>([
    ['a patient id over 64 characters', (b) => (b.context.patientId = 'p'.repeat(65)), 'context.patientId'],
    ['a hookInstance over 256 characters', (b) => (b.hookInstance = 'h'.repeat(257)), 'hookInstance'],
    [
      'a fhirServer URL over 2048 characters',
      (b) => (b.fhirServer = `https://ehr.example.org/${'x'.repeat(2048)}`),
      'fhirServer',
    ],
    [
      'an access token over 16 KiB',
      (b) => {
        b.fhirServer = 'https://ehr.example.org/fhir';
        b.fhirAuthorization = {
          access_token: 't'.repeat(16385),
          token_type: 'Bearer',
          expires_in: 300,
          scope: 'patient/*.read',
          subject: 'cds-service',
        };
      },
      'fhirAuthorization.access_token',
    ],
  ])('when %s, it answers 400', (_what, mutate, field) => {
    expect(rejection(pv(mutate)).expression.join(' ')).toContain(field);
  });

  it('when order-select names more than 100 selections, it answers 400', () => {
    const body = orderRequest('order-select', 'p1', [ketamineDraft('d1', 0.1)]) as Record<string, any>;
    body.context.selections = Array.from({ length: 101 }, () => 'MedicationRequest/d1');
    expect(rejection(body, OS).expression.join(' ')).toContain('context.selections');
  });
});
