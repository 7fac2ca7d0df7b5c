/**
 * The one escaping function for chart text (issue 7): whatever the chart holds, a card shows it as plain
 * text in CommonMark and GitHub-flavored Markdown. Checked by rendering with `marked` (GFM on, the renderer
 * the demo page uses) over a hostile corpus and over arbitrary strings (fast-check).
 */
import path from 'node:path';
import fc from 'fast-check';
import { escapeMarkdown } from '../../src/cards/format';
import { packageRoot } from '../../src/config/paths';
import { build, notStarted } from './fixtures';

interface MarkedLike {
  parse(markdown: string, options: { gfm: boolean; async: false }): string;
}
// marked ships ESM and a UMD build; jest (CommonJS) loads the UMD file by path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { marked } = require(path.join(packageRoot(), 'node_modules', 'marked', 'lib', 'marked.umd.js')) as {
  marked: MarkedLike;
};

const render = (markdown: string) => marked.parse(markdown, { gfm: true, async: false });

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

const BIDI_AND_INVISIBLE = [
  '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069',
  '\u200E', '\u200F', '\u061C', '\u200B', '\u200C', '\u200D', '\u2060', '\u2063', '\uFEFF', '\u00AD',
  '\u0000', '\u0007', '\u001B', '\u007F', '\u0085', '\u009B', '\u{E0041}', '\u3164',
]; // prettier-ignore

const HOSTILE_CORPUS = [
  'See https://evil.example.com/x?a=1 for details',
  'HTTP://EVIL.EXAMPLE.COM',
  'ftp://files.example.org/a',
  'visit www.evil.example.com now',
  'WWW.EVIL.EXAMPLE.COM',
  '(www.evil.example.com)',
  '_www.evil.example.com_',
  'write to nurse@evil.example.com',
  'mailto:someone@evil.example.com',
  'xmpp:someone@evil.example.com/chat',
  '<https://evil.example.com>',
  '<someone@evil.example.com>',
  '[click](javascript:alert(1))',
  '[click][ref]\n\n[ref]: https://evil.example.com',
  '![pixel](https://evil.example.com/p.png)',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '<!-- comment -->',
  '&lt;b&gt; &#x3C;b&#x3E; &copy;',
  '**bold** __bold__ *it* _it_ ~~strike~~ ~one~',
  '`code` ``code``',
  '| a | b |\n|---|---|\n| 1 | 2 |',
  '# heading',
  '- bullet',
  '+ bullet',
  '* bullet',
  '1. ordered',
  '12) ordered',
  '> quote',
  '---',
  '--',
  '===',
  '=',
  '+',
  '-',
  '3.',
  '    indented code',
  '```\nfenced\n```',
  'line  \nbreak',
  'back\\slash\\',
  '[^1] footnote\n\n[^1]: https://evil.example.com',
  'dose \u202Eh/gm 01\u202C',
  'ab\u200Bc\u2066d\u2069e',
  '\u200B- bullet behind a zero-width space',
  'see\u00A0www.evil.example.com',
];

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
  const HOSTILE = HOSTILE_CORPUS.join(' ') + BIDI_AND_INVISIBLE.join('');

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
        expect(text).not.toMatch(/[\p{Cf}\p{Cs}\u0000-\u0009\u000B-\u001F\u007F-\u009F]/u); // line breaks are the card's own
        const html = render(text);
        expect(html).not.toMatch(/<a\b|<img\b|<script\b|<!--/);
        expect(html).not.toContain('evil.example.com</a');
        // Only the tags the card’s own Markdown makes (task-list checkboxes included); never one from the chart.
        expect(
          html
            .match(/<\/?([a-z0-9]+)/g)
            ?.filter(
              (tag) =>
                !/^<\/?(p|ul|ol|li|strong|em|h\d|br|hr|code|table|thead|tbody|tr|th|td|blockquote|input)$/.test(tag),
            ) ?? [],
        ).toEqual([]);
      }
    }
  });
});
