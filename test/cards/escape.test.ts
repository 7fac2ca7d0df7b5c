/**
 * The one escaping function for chart text (issue 7): whatever the chart holds, a card shows it as plain
 * text in CommonMark and GitHub-flavored Markdown. Checked by rendering with `marked` (GFM on, the renderer
 * the demo page uses) over a hostile corpus and over arbitrary strings (fast-check).
 */
import fc from 'fast-check';
import { escapeMarkdown } from '../../src/cards/format';
import { BIDI_AND_INVISIBLE, HOSTILE, HOSTILE_CORPUS, markupProblems, render } from '../support/hostile-text';
import { build, notStarted } from './fixtures';

/** What a reader should see: the text with whitespace runs as one space, invisible characters gone, trimmed. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\u034F\u115F\u1160\u3164\uFFA0]/gu;
const visible = (text: string) =>
  text
    .replace(/[^\S\uFEFF]+/g, ' ')
    .replace(INVISIBLE, '')
    .replace(/ {2,}/g, ' ')
    .trim();

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
/** The text of rendered HTML that must be one plain paragraph (or nothing); null when it is anything else. */
function plainParagraph(html: string): string | null {
  if (html === '') return '';
  const match = /^<p>([^<]*)<\/p>\n$/.exec(html);
  if (!match) return null;
  return (match[1] ?? '').replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity] ?? entity);
}

describe('CH-B7 escaping chart text for card Markdown', () => {
  it.each(HOSTILE_CORPUS)('when the chart holds %j, the card shows it as plain text', (text) => {
    const html = render(escapeMarkdown(text));
    expect(html).not.toMatch(/<a\b|<img\b|<script\b|<(?!\/?p>)/);
    expect(plainParagraph(html)).toBe(visible(text));
  });

  it.each(BIDI_AND_INVISIBLE.map((c) => [`U+${c.codePointAt(0)?.toString(16).toUpperCase()}`, c]))(
    'when the chart text holds %s, it is removed',
    (_name, char) => {
      expect(escapeMarkdown(`left${char}right`)).toBe('leftright');
    },
  );

  it('keeps ordinary clinical text as it is', () => {
    expect(escapeMarkdown('Ketamine 1 mg/mL in NaCl 0.9% (G43.719): see notes, 10:30')).toBe(
      'Ketamine 1 mg/mL in NaCl 0.9% (G43.719): see notes, 10:30',
    );
    expect(escapeMarkdown('Zoë, Ærø, 頭痛, مريض')).toBe('Zoë, Ærø, 頭痛, مريض');
    for (const plain of ['1.0.0', '-5 mg', '+2 kg', '2026-11-24 10:00 UTC', '0.8 h ago'])
      expect(escapeMarkdown(plain)).toBe(plain);
  });

  it('for any string, the rendered card text has no link, image or HTML and reads as the visible text', () => {
    const pieces = fc.constantFrom(
      'https://', 'http://', 'HTTPS://', 'ftp://', 'www.', 'WWW.', '@', 'mailto:', 'xmpp:', '.com', '.org/',
      'example', 'a', '1', '1.', '2)', ' ', '  ', '\n', '\t', '[', ']', '(', ')', '!', '<', '>', '/', '&',
      '&amp;', '&#64;', '*', '_', '~', '`', '\\', '|', '#', '-', '+', '=', ':', ';', '"', "'", '^', '%',
      ...BIDI_AND_INVISIBLE,
    ); // prettier-ignore
    const hostile = fc
      .array(
        fc.oneof(pieces, fc.string({ unit: 'grapheme', maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 4 })),
        {
          maxLength: 24,
        },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(hostile, (text) => {
        const html = render(escapeMarkdown(text));
        return plainParagraph(html) === visible(text);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('CH-B7 hostile chart text in every card field it can reach', () => {
  // The hostile corpus joined into one display, put into every chart-text field of a recommendation.
  // (test/http/hostile-text.test.ts puts it into every chart field of the golden requests, through HTTP.)
  it('when every chart field holds links, images, HTML and bidi controls, no card carries a link, image, tag or control character', () => {
    const rec = notStarted({
      ruleId: 'S1',
      action: 'contraindicated',
      indicator: 'critical',
      recommendedRate: null,
      arithmetic: null,
      contraindications: [{ code: 'psychosis', display: HOSTILE, time: null }],
      cautions: [{ category: 'glaucoma', display: HOSTILE }],
      adverseEffect: { time: '2026-11-24T10:00:00Z', display: HOSTILE, atRate: null, psychotomimetic: false },
      notes: [HOSTILE],
      recentPain: [{ id: 'p', time: HOSTILE, score: 6, charted: HOSTILE }],
      vitals: [{ kind: 'hr', value: 80, unit: HOSTILE, time: HOSTILE, breach: null }],
    });
    for (const card of build({ recommendation: rec })) {
      for (const text of [card.summary, card.detail ?? '']) {
        expect(markupProblems(text)).toEqual([]);
        expect(render(text)).not.toContain('evil.example.com</a');
      }
    }
  });
});
