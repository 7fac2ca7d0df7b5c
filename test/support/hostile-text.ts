/**
 * Hostile chart text (issue 7) and the reader's view of a card: the corpus of links, images, HTML, Markdown
 * syntax, bidi overrides and invisible characters that chart text may hold, and `marked` (GFM on, the
 * renderer the demo page uses) to see what a card's Markdown becomes. Used by the escaping unit tests
 * (test/cards/escape.test.ts) and by the HTTP test that puts the corpus into every chart field
 * (test/http/hostile-text.test.ts).
 */
import path from 'node:path';
import { packageRoot } from '../../src/config/paths';

interface MarkedLike {
  parse(markdown: string, options: { gfm: boolean; async: false }): string;
}
// marked ships ESM and a UMD build; jest (CommonJS) loads the UMD file by path.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { marked } = require(path.join(packageRoot(), 'node_modules', 'marked', 'lib', 'marked.umd.js')) as {
  marked: MarkedLike;
};

/** A card's Markdown as the reader sees it: HTML from marked with GitHub-flavored Markdown on. */
export const render = (markdown: string) => marked.parse(markdown, { gfm: true, async: false });

export const BIDI_AND_INVISIBLE = [
  '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069',
  '\u200E', '\u200F', '\u061C', '\u200B', '\u200C', '\u200D', '\u2060', '\u2063', '\uFEFF', '\u00AD',
  '\u0000', '\u0007', '\u001B', '\u007F', '\u0085', '\u009B', '\u{E0041}', '\u3164',
]; // prettier-ignore

export const HOSTILE_CORPUS = [
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

/** The whole corpus in one string: every trick at once, as one chart field might hold it. */
export const HOSTILE = HOSTILE_CORPUS.join(' ') + BIDI_AND_INVISIBLE.join('');

/** A control, format (bidi, zero-width) or surrogate character; line breaks excepted (a card's own). */
export const CONTROL_CHARACTER = /[\p{Cf}\p{Cs}\u0000-\u0009\u000B-\u001F\u007F-\u009F]/u;

/** The tags a card's own Markdown makes (task-list checkboxes included): any other tag came from the chart. */
const CARD_TAGS = /^<\/?(p|ul|ol|li|strong|em|h\d|br|hr|code|table|thead|tbody|tr|th|td|blockquote|input)$/;

/**
 * What is wrong with a card's Markdown text as a reader would see it: a control or bidi character, or
 * rendered by marked, a link, an image, a script, a comment or a tag the card's own Markdown does not make.
 * Empty when the text is safe.
 */
export function markupProblems(text: string): string[] {
  const problems: string[] = [];
  const control = CONTROL_CHARACTER.exec(text);
  if (control) problems.push(`control character U+${control[0].codePointAt(0)?.toString(16).toUpperCase()}`);
  const html = render(text);
  for (const pattern of [/<a\b/, /<img\b/, /<script\b/, /<!--/, /<[a-z][^>]*\s(?:href|src)=/i])
    if (pattern.test(html)) problems.push(`rendered ${pattern.source}`);
  const foreign = (html.match(/<\/?([a-z0-9]+)/g) ?? []).filter((tag) => !CARD_TAGS.test(tag));
  if (foreign.length > 0) problems.push(`tags ${foreign.join(' ')}`);
  return problems;
}
