import { validateFeedback, type FeedbackItem } from '../../src/store';
import { OperationOutcomeError } from '../../src/errors';

const CARD = '1f6f3d8e-2f4b-4c5e-9a8b-0c1d2e3f4a5b';
const SUGGESTION = '7b7c2a91-6d0e-4f1a-8b3c-5d6e7f8a9b0c';

const accepted = (): Record<string, unknown> => ({
  card: CARD,
  outcome: 'accepted',
  acceptedSuggestions: [{ id: SUGGESTION }],
  outcomeTimestamp: '2024-05-01T10:15:00Z',
});
const overridden = (): Record<string, unknown> => ({
  card: CARD,
  outcome: 'overridden',
  overrideReason: {
    reason: { system: 'http://example.org/override-reasons', code: 'patient-declined', display: 'Patient declined' },
    userComment: 'Patient prefers to stay at the current rate',
  },
  outcomeTimestamp: '2024-05-01T12:15:00.123+02:00',
});

/** The 400 for `body`: its diagnostics and the field it names. */
function rejection(body: unknown): { status: number; field: string | undefined; diagnostics: string } {
  try {
    validateFeedback(body);
  } catch (err) {
    expect(err).toBeInstanceOf(OperationOutcomeError);
    const error = err as OperationOutcomeError;
    const issue = error.outcome.issue[0];
    return { status: error.status, field: issue?.expression?.[0], diagnostics: issue?.diagnostics ?? '' };
  }
  throw new Error('expected the feedback to be refused');
}

const withItem = (patch: Record<string, unknown>, base = accepted()) => {
  const item: Record<string, unknown> = { ...base, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete item[k];
  return { feedback: [item] };
};

describe('CH-F2 validating feedback', () => {
  it('CH-F2 accepted and overridden items in one batch are read, unknown fields and extensions dropped', () => {
    const items = validateFeedback({ feedback: [{ ...accepted(), extension: { x: 1 } }, overridden()], extra: true });
    const expected: FeedbackItem[] = [
      {
        card: CARD,
        outcome: 'accepted',
        acceptedSuggestions: [{ id: SUGGESTION }],
        outcomeTimestamp: '2024-05-01T10:15:00Z',
      },
      {
        card: CARD,
        outcome: 'overridden',
        overrideReason: {
          reason: {
            system: 'http://example.org/override-reasons',
            code: 'patient-declined',
            display: 'Patient declined',
          },
          userComment: 'Patient prefers to stay at the current rate',
        },
        outcomeTimestamp: '2024-05-01T12:15:00.123+02:00',
      },
    ];
    expect(items).toEqual(expected);
  });

  it('CH-F2 an override without a reason (the reason is optional) is accepted', () => {
    expect(validateFeedback(withItem({ overrideReason: undefined }, overridden()))[0]?.outcome).toBe('overridden');
    expect(
      validateFeedback(withItem({ overrideReason: { userComment: 'n/a' } }, overridden()))[0]?.overrideReason,
    ).toEqual({ userComment: 'n/a' });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['a body that is not an object', [], 'body', /must be an object/],
    ['no feedback array', {}, 'feedback', /is required/],
    ['feedback not an array', { feedback: {} }, 'feedback', /must be an array/],
    ['an empty feedback array', { feedback: [] }, 'feedback', /must not be empty/],
    ['a missing card', withItem({ card: undefined }), 'feedback[0].card', /is required/],
    ['a card that is not a uuid', withItem({ card: 'card-1' }), 'feedback[0].card', /UUID/],
    ['a missing outcome', withItem({ outcome: undefined }), 'feedback[0].outcome', /is required/],
    ['an unknown outcome', withItem({ outcome: 'ignored' }), 'feedback[0].outcome', /accepted, overridden/],
    [
      'accepted without acceptedSuggestions',
      withItem({ acceptedSuggestions: undefined }),
      'feedback[0].acceptedSuggestions',
      /required when outcome is accepted/,
    ],
    [
      'accepted with an empty acceptedSuggestions',
      withItem({ acceptedSuggestions: [] }),
      'feedback[0].acceptedSuggestions',
      /must not be empty/,
    ],
    [
      'a suggestion without id',
      withItem({ acceptedSuggestions: [{}] }),
      'feedback[0].acceptedSuggestions[0].id',
      /is required/,
    ],
    [
      'a suggestion id that is not a uuid',
      withItem({ acceptedSuggestions: [{ id: 42 }] }),
      'feedback[0].acceptedSuggestions[0].id',
      /must be a string/,
    ],
    [
      'a missing outcomeTimestamp',
      withItem({ outcomeTimestamp: undefined }),
      'feedback[0].outcomeTimestamp',
      /is required/,
    ],
    [
      'an outcomeTimestamp without time zone',
      withItem({ outcomeTimestamp: '2024-05-01T10:15:00' }),
      'feedback[0].outcomeTimestamp',
      /RFC 3339/,
    ],
    [
      'an outcomeTimestamp that is a date only',
      withItem({ outcomeTimestamp: '2024-05-01' }),
      'feedback[0].outcomeTimestamp',
      /RFC 3339/,
    ],
    [
      'an impossible outcomeTimestamp',
      withItem({ outcomeTimestamp: '2024-02-30T10:00:00Z' }),
      'feedback[0].outcomeTimestamp',
      /RFC 3339/,
    ],
    [
      'an empty overrideReason',
      withItem({ overrideReason: {} }, overridden()),
      'feedback[0].overrideReason',
      /must not be empty/,
    ],
    [
      'an override reason Coding without code',
      withItem({ overrideReason: { reason: { system: 'http://example.org/r' } } }, overridden()),
      'feedback[0].overrideReason.reason.code',
      /is required/,
    ],
    [
      'a userComment that is not text',
      withItem({ overrideReason: { userComment: 7 } }, overridden()),
      'feedback[0].overrideReason.userComment',
      /must be a string/,
    ],
  ])('CH-F2 %s → 400 naming %s', (_story, body, field, message) => {
    const { status, field: named, diagnostics } = rejection(body);
    expect(status).toBe(400);
    expect(named).toBe(field);
    expect(diagnostics).toContain(field);
    expect(diagnostics).toMatch(message);
  });

  it('CH-F2 the failing item is located in a batch', () => {
    const { field } = rejection({ feedback: [accepted(), overridden(), { ...accepted(), card: 'nope' }] });
    expect(field).toBe('feedback[2].card');
  });
});
