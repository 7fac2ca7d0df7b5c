import { OperationOutcomeError } from '../../src/errors';
import { SUMMARY_MAX_LENGTH } from '../../src/contract/cds-hooks';
import { assertConformant } from '../../src/validation/response';

/** A minimal conformant card with one suggestion; each test breaks one thing. */
function card(overrides: Record<string, unknown> = {}, n = 1): Record<string, unknown> {
  return {
    uuid: `card-${n}`,
    summary: 'Protocol suggests increasing ketamine from 0.2 to 0.3 mg/kg/h',
    detail: '**Rule T8**',
    indicator: 'info',
    source: {
      label: 'IV ketamine protocol',
      url: 'https://example.org/docs',
      topic: { system: 'https://example.org/cs', code: 'T8', display: 'Titration step' },
    },
    suggestions: [
      {
        label: 'Draft order',
        uuid: `suggestion-${n}`,
        isRecommended: true,
        actions: [
          {
            type: 'create',
            description: 'Create a draft',
            resource: { resourceType: 'MedicationRequest', status: 'draft', intent: 'order' },
          },
        ],
      },
    ],
    selectionBehavior: 'at-most-one',
    overrideReasons: [
      { system: 'https://example.org/override-reason', code: 'clinical-judgement', display: 'Clinical judgement' },
    ],
    links: [{ label: 'Protocol', url: 'https://example.org/docs', type: 'absolute' }],
    extension: { 'ketamine-protocol': { ruleId: 'T8', draftRate: null } },
    ...overrides,
  };
}

const response = (...cards: unknown[]) => ({ cards });

/** The error thrown for a non-conformant response (fails the test when nothing is thrown). */
function failure(value: unknown): OperationOutcomeError {
  try {
    assertConformant(value);
  } catch (err) {
    if (err instanceof OperationOutcomeError) return err;
    throw err;
  }
  throw new Error('expected the response to be rejected');
}

const rejects = (value: unknown, path: string | RegExp) => {
  const err = failure(value);
  expect(err.status).toBe(500);
  expect(err.outcome.issue[0]?.code).toBe('exception');
  expect(err.outcome.issue[0]?.diagnostics).toEqual(expect.stringMatching(path));
};

const withAction = (action: Record<string, unknown>) =>
  response(card({ suggestions: [{ label: 'x', uuid: 's-1', isRecommended: true, actions: [action] }] }));

describe('the response schema check', () => {
  it('accepts the reference card and an empty card list', () => {
    expect(() => assertConformant(response(card()))).not.toThrow();
    expect(() => assertConformant(response())).not.toThrow();
  });

  describe('CH-C1 the response object', () => {
    it('CH-C1 rejects a response without cards', () => rejects({}, /\/ must have required property 'cards'/));
    it('CH-C1 rejects cards that are not an array', () => rejects({ cards: {} }, /\/cards must be array/));
    it('CH-C1 rejects an empty systemActions', () =>
      rejects({ cards: [], systemActions: [] }, /\/systemActions must NOT have fewer than 1 items/));
    it('CH-C1 accepts non-empty systemActions', () => {
      expect(() =>
        assertConformant({
          cards: [],
          systemActions: [{ type: 'update', description: 'x', resource: { resourceType: 'Patient', id: 'p' } }],
        }),
      ).not.toThrow();
    });
    it('CH-C1 rejects unknown top-level fields', () =>
      rejects({ cards: [], extra: 1 }, /must NOT have additional properties \(extra\)/));
  });

  describe('CH-C2 card summary, indicator and source', () => {
    it(`CH-C2 accepts a summary of ${SUMMARY_MAX_LENGTH} characters and rejects one of 140`, () => {
      expect(SUMMARY_MAX_LENGTH).toBe(139);
      expect(() => assertConformant(response(card({ summary: 'x'.repeat(SUMMARY_MAX_LENGTH) })))).not.toThrow();
      rejects(
        response(card({ summary: 'x'.repeat(SUMMARY_MAX_LENGTH + 1) })),
        /\/cards\/0\/summary must NOT have more than 139 characters/,
      );
    });
    it('CH-C2 rejects a missing or blank summary', () => {
      const { summary: _summary, ...noSummary } = card();
      rejects(response(noSummary), /\/cards\/0 must have required property 'summary'/);
      rejects(response(card({ summary: '   ' })), /\/cards\/0\/summary must match pattern/);
    });
    it('CH-C2 rejects an indicator outside info|warning|critical', () =>
      rejects(
        response(card({ indicator: 'error' })),
        /\/cards\/0\/indicator must be equal to one of the allowed values \(info, warning, critical\)/,
      ));
    it('CH-C2 rejects a source without a label', () =>
      rejects(
        response(card({ source: { url: 'https://example.org' } })),
        /\/cards\/0\/source must have required property 'label'/,
      ));
    it('CH-C2 rejects a relative source url and a relative icon', () => {
      rejects(response(card({ source: { label: 'x', url: '/docs' } })), /\/cards\/0\/source\/url/);
      rejects(response(card({ source: { label: 'x', icon: 'icon.png' } })), /\/cards\/0\/source\/icon/);
      rejects(
        response(card({ source: { label: 'x', url: 'javascript:alert(1)' } })),
        /\/cards\/0\/source\/url must match pattern/,
      );
    });
  });

  describe('CH-C3 selection behaviour', () => {
    it('CH-C3 rejects suggestions without selectionBehavior', () => {
      const { selectionBehavior: _s, ...noBehavior } = card();
      rejects(
        response(noBehavior),
        /\/cards\/0 must have property selectionBehavior when property suggestions is present/,
      );
    });
    it('CH-C3 rejects a selectionBehavior outside at-most-one|any', () =>
      rejects(
        response(card({ selectionBehavior: 'all' })),
        /\/cards\/0\/selectionBehavior must be equal to one of the allowed values/,
      ));
    it('CH-C3 rejects two recommended suggestions with at-most-one, accepts them with any', () => {
      const two = [
        { label: 'a', uuid: 's-a', isRecommended: true },
        { label: 'b', uuid: 's-b', isRecommended: true },
      ];
      rejects(
        response(card({ suggestions: two })),
        /\/cards\/0\/suggestions must contain at least 0 and no more than 1 valid item/,
      );
      expect(() => assertConformant(response(card({ suggestions: two, selectionBehavior: 'any' })))).not.toThrow();
    });
    it('CH-C3 rejects an empty suggestions list', () =>
      rejects(response(card({ suggestions: [] })), /\/cards\/0\/suggestions must NOT have fewer than 1 items/));
  });

  describe('CH-C4 uuids', () => {
    it('CH-C4 rejects a card without a uuid', () => {
      const { uuid: _u, ...noUuid } = card();
      rejects(response(noUuid), /\/cards\/0 must have required property 'uuid'/);
    });
    it('CH-C4 rejects a suggestion without a uuid', () =>
      rejects(
        response(card({ suggestions: [{ label: 'a' }] })),
        /\/cards\/0\/suggestions\/0 must have required property 'uuid'/,
      ));
    it('CH-C4 rejects a uuid used twice across cards', () =>
      rejects(response(card({}, 1), card({ uuid: 'card-1' }, 2)), /\/cards\/1\/uuid repeats a uuid/));
    it('CH-C4 rejects a suggestion reusing a card uuid', () =>
      rejects(
        response(card({ suggestions: [{ label: 'a', uuid: 'card-1', isRecommended: true }] })),
        /\/cards\/0\/suggestions\/0\/uuid repeats a uuid/,
      ));
  });

  describe('CH-C5 actions', () => {
    it('CH-C5 rejects an action type outside create|update|delete', () =>
      rejects(
        withAction({ type: 'replace', description: 'x', resource: { resourceType: 'Patient' } }),
        /actions\/0\/type must be equal to one of the allowed values/,
      ));
    it('CH-C5 rejects an action without a description', () =>
      rejects(
        withAction({ type: 'delete', resourceId: 'MedicationRequest/1' }),
        /actions\/0 must have required property 'description'/,
      ));
    it('CH-C5 rejects create/update without a resource', () => {
      rejects(withAction({ type: 'create', description: 'x' }), /actions\/0 must have required property 'resource'/);
      rejects(withAction({ type: 'update', description: 'x' }), /actions\/0 must have required property 'resource'/);
    });
    it('CH-C5 rejects a resource without a resourceType', () =>
      rejects(
        withAction({ type: 'create', description: 'x', resource: { status: 'draft' } }),
        /actions\/0\/resource must have required property 'resourceType'/,
      ));
    it('CH-C5 rejects a delete without a Type/id resourceId', () => {
      rejects(withAction({ type: 'delete', description: 'x' }), /actions\/0 must have required property 'resourceId'/);
      rejects(
        withAction({ type: 'delete', description: 'x', resourceId: '123' }),
        /actions\/0\/resourceId must match pattern/,
      );
    });
    it('CH-C5 accepts a delete with resourceId MedicationRequest/<id>', () => {
      expect(() =>
        assertConformant(withAction({ type: 'delete', description: 'x', resourceId: 'MedicationRequest/draft-1' })),
      ).not.toThrow();
    });
    it('CH-C5 rejects null, "", [] and {} inside a FHIR resource', () => {
      rejects(
        withAction({ type: 'create', description: 'x', resource: { resourceType: 'MedicationRequest', status: null } }),
        /resource\/status must be string,number,boolean,array,object/,
      );
      rejects(
        withAction({ type: 'create', description: 'x', resource: { resourceType: 'MedicationRequest', note: [] } }),
        /resource\/note must NOT have fewer than 1 items/,
      );
      rejects(
        withAction({ type: 'create', description: 'x', resource: { resourceType: 'MedicationRequest', subject: {} } }),
        /resource\/subject must NOT have fewer than 1 properties/,
      );
      rejects(
        withAction({
          type: 'create',
          description: 'x',
          resource: { resourceType: 'MedicationRequest', note: [{ text: '' }] },
        }),
        /resource\/note\/0\/text must NOT have fewer than 1 characters/,
      );
    });
  });

  describe('CH-C6 override reasons', () => {
    it('CH-C6 rejects an override reason without a display or a system', () => {
      rejects(
        response(card({ overrideReasons: [{ system: 'https://example.org/r', code: 'x' }] })),
        /\/cards\/0\/overrideReasons\/0 must have required property 'display'/,
      );
      rejects(
        response(card({ overrideReasons: [{ code: 'x', display: 'X' }] })),
        /\/cards\/0\/overrideReasons\/0 must have required property 'system'/,
      );
    });
    it('CH-C6 rejects an empty overrideReasons list', () =>
      rejects(response(card({ overrideReasons: [] })), /\/cards\/0\/overrideReasons must NOT have fewer than 1 items/));
  });

  describe('CH-C7 links', () => {
    it('CH-C7 rejects a relative link url', () =>
      rejects(
        response(card({ links: [{ label: 'x', url: 'docs/protocol', type: 'absolute' }] })),
        /\/cards\/0\/links\/0\/url/,
      ));
    it('CH-C7 rejects a link type outside absolute|smart', () =>
      rejects(
        response(card({ links: [{ label: 'x', url: 'https://example.org', type: 'web' }] })),
        /\/cards\/0\/links\/0\/type must be equal to one of the allowed values/,
      ));
    it('CH-C7 rejects appContext on an absolute link, accepts it on a smart link', () => {
      rejects(
        response(card({ links: [{ label: 'x', url: 'https://example.org', type: 'absolute', appContext: 'a' }] })),
        /\/cards\/0\/links\/0 must NOT be valid/,
      );
      expect(() =>
        assertConformant(
          response(
            card({ links: [{ label: 'x', url: 'https://example.org/launch', type: 'smart', appContext: 'a' }] }),
          ),
        ),
      ).not.toThrow();
    });
    it('CH-C7 rejects a link without a label', () =>
      rejects(
        response(card({ links: [{ url: 'https://example.org', type: 'absolute' }] })),
        /\/cards\/0\/links\/0 must have required property 'label'/,
      ));
  });

  describe('CH-C8 no empty values', () => {
    it('CH-C8 rejects an empty detail, an empty links list and an empty extension', () => {
      rejects(response(card({ detail: '' })), /\/cards\/0\/detail must NOT have fewer than 1 characters/);
      rejects(response(card({ links: [] })), /\/cards\/0\/links must NOT have fewer than 1 items/);
      rejects(response(card({ extension: {} })), /\/cards\/0\/extension must NOT have fewer than 1 properties/);
    });
    it('CH-C8 rejects null for an optional card field', () =>
      rejects(response(card({ detail: null })), /\/cards\/0\/detail must be string/));
    it('CH-C8 accepts null inside the ketamine-protocol extension (docs/clinical-specification.md §6 "not applicable")', () => {
      expect(() =>
        assertConformant(
          response(card({ extension: { 'ketamine-protocol': { recommendedRate: null, draftRate: null } } })),
        ),
      ).not.toThrow();
    });
  });

  describe('CH-C9 the failure', () => {
    it('CH-C9 is a 500 OperationOutcome naming the failing paths, never the values', () => {
      const secret = 'Jane Doe MRN 12345 '.repeat(10);
      const err = failure(response(card({ summary: secret, indicator: 'loud' })));
      expect(err).toBeInstanceOf(OperationOutcomeError);
      expect(err.status).toBe(500);
      expect(err.outcome.resourceType).toBe('OperationOutcome');
      expect(err.outcome.issue[0]?.severity).toBe('error');
      expect(err.outcome.issue[0]?.expression).toEqual(['/cards/0/summary', '/cards/0/indicator']);
      expect(err.message).not.toContain('Jane Doe');
      expect(err.message).toMatch(/^CDS Hooks response is not conformant: /);
    });
    it('CH-C9 rejects non-objects', () => {
      rejects(null, /\/ must be object/);
      rejects('cards', /\/ must be object/);
    });
  });
});
