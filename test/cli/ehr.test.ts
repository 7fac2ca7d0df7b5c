import { buildContext, buildDraftOrder } from '../../src/cli/ehr';
import { renderTemplate } from '../../src/fhir/prefetch-template';
import { formatResponse, PLAIN } from '../../src/cli/print';
import { generateEhrKey, issuerUrls, signCall, TOKEN_LIFETIME_SECONDS } from '../../src/cli/jwt';

describe('the EHR side of a call, as the CLI plays it', () => {
  const context = { userId: 'Practitioner/dr 1', patientId: 'p/1', encounterId: 'e1' };

  it("renders context and user tokens, URL-encoded, with the service's own renderer", () => {
    expect(renderTemplate('Observation?patient={{context.patientId}}&_count=5', { context })).toBe(
      'Observation?patient=p%2F1&_count=5',
    );
    expect(renderTemplate('Practitioner/{{userPractitionerId}}', { context })).toBe('Practitioner/dr%201');
  });

  it('gives null (the key is sent as "no data") when a token has no value in this context', () => {
    expect(renderTemplate('PractitionerRole/{{userPractitionerRoleId}}', { context })).toBeNull();
    expect(
      renderTemplate('Encounter/{{context.encounterId}}', { context: { userId: 'Practitioner/x', patientId: 'p' } }),
    ).toBeNull();
  });

  it('builds a draft ketamine order with the ordered rate in UCUM', () => {
    const order = buildDraftOrder({
      patientId: 'p1',
      encounterId: 'e1',
      rate: 0.2,
      unit: 'mg/kg/h',
      authoredOn: '2026-03-10T08:00:00Z',
      id: 'd1',
    });
    expect(order).toMatchObject({
      resourceType: 'MedicationRequest',
      id: 'd1',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/p1' },
      encounter: { reference: 'Encounter/e1' },
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '6130' }] },
    });
    expect(order.dosageInstruction?.[0]?.doseAndRate?.[0]?.rateQuantity).toEqual({
      value: 0.2,
      unit: 'mg/kg/h',
      system: 'http://unitsofmeasure.org',
      code: 'mg/kg/h',
    });
  });

  it('CH-R2 order-select names its selections in draftOrders; order-sign sends draftOrders only; patient-view neither', () => {
    const order = buildDraftOrder({
      patientId: 'p1',
      rate: 0.1,
      unit: 'mg/kg/h',
      authoredOn: '2026-03-10T08:00:00Z',
      id: 'd9',
    });
    const select = buildContext({
      hook: 'order-select',
      fhirServer: 'http://x/fhir',
      patientId: 'p1',
      draftOrders: [order],
    });
    expect(select.selections).toEqual(['MedicationRequest/d9']);
    expect(select.draftOrders?.entry?.[0]?.resource).toBe(order);
    const sign = buildContext({
      hook: 'order-sign',
      fhirServer: 'http://x/fhir',
      patientId: 'p1',
      draftOrders: [order],
    });
    expect(sign.selections).toBeUndefined();
    expect(sign.draftOrders?.type).toBe('collection');
    const view = buildContext({ hook: 'patient-view', fhirServer: 'http://x/fhir', patientId: 'p1' });
    expect(view).toEqual({ userId: 'Practitioner/demo-clinician', patientId: 'p1' });
  });
});

describe('cards printed for a terminal', () => {
  it('shows indicator, summary, the protocol extension, detail, suggestions, override reasons and links', () => {
    const text = formatResponse(
      {
        cards: [
          {
            uuid: 'c1',
            summary: 'Protocol suggests increasing ketamine to 0.3 mg/kg/h',
            indicator: 'warning',
            detail: '**Rule T8**\n\n- Pain 6/10 at 11:00',
            source: { label: 'IV ketamine protocol', url: 'https://example.org/p' },
            selectionBehavior: 'at-most-one',
            suggestions: [
              {
                label: 'Increase to 0.3 mg/kg/h',
                uuid: 's1',
                isRecommended: true,
                actions: [
                  {
                    type: 'create',
                    description: 'Draft order',
                    resource: {
                      resourceType: 'MedicationRequest',
                      status: 'draft',
                      intent: 'order',
                      subject: {},
                      id: 'm1',
                    } as never,
                  },
                ],
              },
            ],
            overrideReasons: [{ code: 'clinical-judgement', system: 'x', display: 'Clinical judgement' }],
            links: [{ label: 'Protocol', url: 'https://example.org/docs', type: 'absolute' }],
            extension: {
              'ketamine-protocol': {
                ruleId: 'T8',
                action: 'increase',
                phase: 'titration',
                currentRate: 0.2,
                recommendedRate: 0.3,
                unit: 'mg/kg/h',
                draftRate: null,
                nextReviewAt: '2026-03-10T14:00:00Z',
                protocolVersion: '1.0.0',
              },
            },
          },
        ],
      },
      PLAIN,
    );
    expect(text).toContain('1. [WARNING] Protocol suggests increasing ketamine to 0.3 mg/kg/h');
    expect(text).toContain(
      'rule T8 · action increase · phase titration · rate 0.2 → 0.3 mg/kg/h · next review 2026-03-10T14:00:00Z · protocol v1.0.0',
    );
    expect(text).toContain('    **Rule T8**');
    expect(text).toContain('• Increase to 0.3 mg/kg/h (recommended)');
    expect(text).toContain('create MedicationRequest/m1 — Draft order');
    expect(text).toContain('Override reasons: Clinical judgement');
    expect(text).toContain('Link: Protocol <https://example.org/docs>');
  });

  it('says so when there are no cards', () => {
    expect(formatResponse({ cards: [] }, PLAIN)).toContain('No cards');
  });
});

describe('the signed call (--jwt)', () => {
  it('CH-J2 CH-J3 is an ES384 JWT with kid, typ JWT and jku, and iss, aud = the URL called, exp, iat, jti', async () => {
    const { decodeProtectedHeader, decodeJwt, jwtVerify, importJWK } = await import('jose');
    const key = await generateEhrKey();
    const urls = issuerUrls(4100);
    const token = await signCall(
      key,
      urls,
      'http://127.0.0.1:3000/cds-services/ketamine-protocol-patient-view',
      1_800_000_000,
    );
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'ES384',
      kid: key.kid,
      typ: 'JWT',
      jku: 'http://127.0.0.1:4100/.well-known/jwks.json',
    });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: 'http://127.0.0.1:4100',
      aud: 'http://127.0.0.1:3000/cds-services/ketamine-protocol-patient-view',
      iat: 1_800_000_000,
      exp: 1_800_000_000 + TOKEN_LIFETIME_SECONDS,
    });
    expect(typeof claims.jti).toBe('string');
    expect(key.publicJwk.d).toBeUndefined();
    const verified = await jwtVerify(token, await importJWK(key.publicJwk, 'ES384'), {
      currentDate: new Date(1_800_000_010_000),
    });
    expect(verified.payload.iss).toBe(urls.iss);
  });
});
