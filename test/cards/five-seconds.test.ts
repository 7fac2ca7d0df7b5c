/**
 * Cards a clinician reads in five seconds (docs/clinical-specification.md §6, v1.1), checked on every
 * reviewed golden response (one or more per rule id) and once through HTTP in another time zone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Card } from '../../src/cards/types';
import type { AuditRow } from '../../src/store';
import { goldenApp } from '../golden/app';
import { GOLDEN_DIR, type GoldenRequest } from '../golden/request';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const TIME = /\d{4}-\d\d-\d\d \d\d:\d\d/g;

const responses = readdirSync(GOLDEN_DIR)
  .filter((f) => f.endsWith('.response.json'))
  .map((f) => {
    const cards = (JSON.parse(readFileSync(path.join(GOLDEN_DIR, f), 'utf8')) as { cards: Card[] }).cards;
    return [f.replace('.response.json', ''), cards] as const;
  })
  .filter(([, cards]) => cards.length > 0);

/** Every text a clinician reads on a card. */
function texts(card: Card): string[] {
  return [
    card.summary,
    card.detail ?? '',
    card.source.label,
    ...(card.suggestions ?? []).map((s) => s.label),
    ...(card.links ?? []).map((l) => l.label),
  ];
}

describe.each(responses)('%s', (stem, cards) => {
  it.each(cards.map((card, i) => [i, card] as const))(
    `${stem.split('-')[0]} card %i: the first six lines say the rule, the action and its rate`,
    (_i, card) => {
      const ext = (card.extension as { 'ketamine-protocol': { ruleId: string; recommendedRate: number | null } })[
        'ketamine-protocol'
      ];
      const head = (card.detail ?? '').split('\n').slice(0, 6).join('\n');
      expect(head).toContain(`Rule ${ext.ruleId}`);
      expect(head).toMatch(
        /start at|increase to|taper to|decrease to|stop the infusion|keep the rate at|no rate suggested|no start|course completed|remove the draft|set the draft to/,
      );
      if (ext.recommendedRate !== null) expect(head).toContain(`${ext.recommendedRate} mg/kg/h`);
    },
  );

  it('no uuid or internal id in any text a clinician reads', () => {
    for (const card of cards) for (const text of texts(card)) expect(text).not.toMatch(UUID);
  });

  it('every time on the card names its zone (UTC by default)', () => {
    for (const card of cards) {
      const detail = card.detail ?? '';
      for (const match of detail.matchAll(TIME)) {
        expect(detail.slice(match.index + match[0].length, match.index + match[0].length + 4)).toBe(' UTC');
      }
    }
  });

  it('a pump rate in mL/h only with a strength from the record, named', () => {
    for (const card of cards) {
      const detail = card.detail ?? '';
      for (const match of detail.matchAll(/mL\/h at [\d.]+ mg\/mL/g)) {
        expect(detail.slice(match.index + match[0].length)).toMatch(/^ \(strength of/);
      }
    }
  });
});

describe('CDS_TIME_ZONE: every time on a card in the institution’s zone, named', () => {
  it('T8 cards for a ward in New York show EST times, never UTC', async () => {
    const golden = JSON.parse(
      readFileSync(path.join(GOLDEN_DIR, 'T8-first-step-from-off-grid-rate.request.json'), 'utf8'),
    ) as GoldenRequest;
    const now = new Date(golden['x-golden-now']);
    const body = Object.fromEntries(Object.entries(golden).filter(([k]) => !k.startsWith('x-golden-')));
    const audits: AuditRow[] = [];
    const res = await request(goldenApp(now, audits, 'America/New_York'))
      .post('/cds-services/ketamine-protocol-patient-view')
      .send(body);
    expect(res.status).toBe(200);
    const detail = (res.body.cards[0] as Card).detail ?? '';
    const times = [...detail.matchAll(TIME)].map((m) => detail.slice(m.index, m.index + m[0].length + 4));
    expect(times.length).toBeGreaterThan(0);
    for (const t of times) expect(t).toMatch(/ EST$/);
    expect(detail).not.toContain(' UTC');
  });
});
