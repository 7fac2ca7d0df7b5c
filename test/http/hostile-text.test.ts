/**
 * Hostile chart text through HTTP (issue 7, CH-B7): every golden request (test/fixtures/golden), with the
 * hostile corpus (test/support/hostile-text.ts: URLs, www. links, Markdown links and images, HTML, bidi
 * overrides, zero-width characters) put into every chart string a card can quote (displays, texts, units,
 * notes, comments, titles, descriptions), POSTed to the service with the real modules. Whatever the chart
 * holds: never a 5xx, and no card's summary or detail, rendered with marked (GFM), holds a link, an image,
 * an HTML tag or a control or bidi character; no other card text holds a control or bidi character.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Card } from '../../src/cards/types';
import type { AuditRow } from '../../src/store';
import { goldenApp } from '../golden/app';
import { GOLDEN_DIR, SERVICE_IDS, type GoldenRequest } from '../golden/request';
import {
  BIDI_AND_INVISIBLE,
  CONTROL_CHARACTER,
  HOSTILE,
  HOSTILE_CORPUS,
  markupProblems,
} from '../support/hostile-text';

/** Chart strings a card can quote: what the CQL reads as a display, a text or a unit, and free text. */
const TEXT_KEYS = new Set(['display', 'text', 'unit', 'comment', 'title', 'description', 'valueString']);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A copy of `value` with every chart string under TEXT_KEYS replaced by `text(n)` (n counts the fields).
 * With `quantityCodes`, a Quantity's UCUM code is replaced too, so that its unit text is what the service
 * reads (an unreadable unit: the value is set aside and named on the card with the charted unit).
 */
function hostile(value: Json, text: (n: number) => string, quantityCodes: boolean): Json {
  let n = 0;
  const walk = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const isQuantity = typeof node.value === 'number' && ('unit' in node || 'code' in node);
    return Object.fromEntries(
      Object.entries(node).map(([key, child]) => {
        if (typeof child === 'string' && (TEXT_KEYS.has(key) || (quantityCodes && isQuantity && key === 'code')))
          return [key, text(n++)];
        return [key, walk(child)];
      }),
    );
  };
  return walk(value);
}

/** Every card string that is not a FHIR resource (a suggestion's resource is the EHR's own order). */
function cardStrings(card: Card): string[] {
  const strings: string[] = [];
  const collect = (node: unknown, key: string) => {
    if (key === 'resource' || key === 'resourceId') return;
    if (typeof node === 'string') strings.push(node);
    else if (Array.isArray(node)) for (const item of node) collect(item, key);
    else if (node !== null && typeof node === 'object')
      for (const [k, child] of Object.entries(node)) collect(child, k);
  };
  collect(card, '');
  return strings;
}

const goldens = readdirSync(GOLDEN_DIR)
  .filter((file) => file.endsWith('.request.json'))
  .sort()
  .map((file) => ({
    stem: file.slice(0, -'.request.json'.length),
    golden: JSON.parse(readFileSync(path.join(GOLDEN_DIR, file), 'utf8')) as GoldenRequest,
  }));

/** The variants: the whole corpus in every field; one corpus entry per field, units read from their text. */
const VARIANTS = [
  { name: 'the whole corpus in every field', text: () => HOSTILE, quantityCodes: false },
  {
    name: 'one corpus entry per field, each with a bidi or invisible character, units as charted text',
    text: (n: number) =>
      `${HOSTILE_CORPUS[n % HOSTILE_CORPUS.length] ?? ''}${BIDI_AND_INVISIBLE[n % BIDI_AND_INVISIBLE.length] ?? ''}`,
    quantityCodes: true,
  },
];

describe.each(VARIANTS)('CH-B7 hostile chart text through HTTP: $name', ({ text, quantityCodes }) => {
  /** Card texts that quoted the hostile text (its escaped words). */
  let quoted = 0;

  it.each(goldens)(
    '$stem: never a 5xx, and no card carries a link, image, tag or control character',
    async ({ golden }) => {
      const { 'x-golden-now': nowIso, 'x-golden-story': _story, ...body } = golden;
      const audits: AuditRow[] = [];
      const res = await request(goldenApp(new Date(nowIso), audits))
        .post(`/cds-services/${SERVICE_IDS[body.hook]}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(hostile(body as unknown as Json, text, quantityCodes)));
      expect(res.status).toBeLessThan(500);
      expect(res.status).toBe(200);
      for (const card of (res.body as { cards: Card[] }).cards) {
        for (const markdown of [card.summary, card.detail ?? '']) {
          expect({ markdown, problems: markupProblems(markdown) }).toEqual({ markdown, problems: [] });
          if (/evil|javascript|onerror|alert/i.test(markdown)) quoted += 1;
        }
        for (const value of cardStrings(card)) expect(CONTROL_CHARACTER.test(value) ? value : '').toBe('');
      }
    },
  );

  it('the hostile text reached the cards (quoted, escaped): else the tests above would prove nothing', () => {
    expect(quoted).toBeGreaterThan(0);
  });
});
