/**
 * Golden request/response pairs through HTTP, one or more for every rule id of docs/clinical-specification.md.
 *
 * Each test/fixtures/golden/<ruleId>-<slug>.request.json is POSTed (without its x-golden-* fields) to
 * createApp with the real modules (gather, CQL evaluator, decision core, card builder, response schema),
 * the clock pinned to the request's "x-golden-now" and a uuid sequence that restarts for every pair; the
 * answer must equal <ruleId>-<slug>.response.json exactly.
 *
 *   UPDATE_GOLDEN=1 npx jest test/golden   rewrites the response files: READ each one against
 *   docs/clinical-specification.md before committing it.
 *
 * A request without its response (or the reverse) fails, and so does a rule id without a pair.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { AuditRow } from '../../src/store';
import { goldenApp } from './app';
import { GOLDEN_DIR, SERVICE_IDS, type GoldenRequest } from './request';
import { RULE_IDS } from './scenarios';

const UPDATE = process.env.UPDATE_GOLDEN === '1';
const REQUEST = '.request.json';
const RESPONSE = '.response.json';

const files = readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json'));
const stemsOf = (suffix: string) =>
  files
    .filter((f) => f.endsWith(suffix))
    .map((f) => f.slice(0, -suffix.length))
    .sort();
const requestStems = stemsOf(REQUEST);
const responseStems = stemsOf(RESPONSE);
const ruleIdOf = (stem: string) => stem.split('-')[0] ?? '';

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(GOLDEN_DIR, file), 'utf8')) as T;
}

describe('golden pairs: the fixture directory', () => {
  it('holds only <ruleId>-<slug>.request.json / .response.json files, each with a protocol rule id', () => {
    const stray = files.filter((f) => !f.endsWith(REQUEST) && !f.endsWith(RESPONSE));
    expect(stray).toEqual([]);
    for (const stem of [...requestStems, ...responseStems]) expect(RULE_IDS).toContain(ruleIdOf(stem));
  });

  it('every request has its response and every response its request (unpaired files fail)', () => {
    if (UPDATE) return; // the responses are being written below
    expect(requestStems.filter((s) => !responseStems.includes(s)).map((s) => s + REQUEST)).toEqual([]);
    expect(responseStems.filter((s) => !requestStems.includes(s)).map((s) => s + RESPONSE)).toEqual([]);
  });

  it('every rule id of docs/clinical-specification.md (P0…T8, O0…O6) has at least one pair; O5 and O6 on both order hooks', () => {
    const paired = requestStems.filter((s) => UPDATE || responseStems.includes(s));
    expect(RULE_IDS.filter((id) => !paired.some((s) => ruleIdOf(s) === id))).toEqual([]);
    for (const id of ['O5', 'O6']) {
      const hooks = paired.filter((s) => ruleIdOf(s) === id).map((s) => readJson<GoldenRequest>(s + REQUEST).hook);
      expect(new Set(hooks)).toEqual(new Set(['order-select', 'order-sign']));
    }
  });
});

const cases = requestStems.map((stem) => {
  const golden = readJson<GoldenRequest>(stem + REQUEST);
  return { stem, ruleId: ruleIdOf(stem), golden, title: golden['x-golden-story'] };
});

describe('golden pairs through HTTP', () => {
  it.each(cases)('$title', async ({ stem, ruleId, golden }) => {
    const { 'x-golden-now': nowIso, 'x-golden-story': story, ...body } = golden;
    expect(story.startsWith(`${ruleId}: `)).toBe(true);
    const now = new Date(nowIso);
    expect(Number.isNaN(now.getTime())).toBe(false);

    const audits: AuditRow[] = [];
    const res = await request(goldenApp(now, audits))
      .post(`/cds-services/${SERVICE_IDS[body.hook]}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));
    expect(res.status).toBe(200);

    const responseFile = path.join(GOLDEN_DIR, stem + RESPONSE);
    if (UPDATE) writeFileSync(responseFile, `${JSON.stringify(res.body, null, 2)}\n`);
    const expected = JSON.parse(readFileSync(responseFile, 'utf8')) as {
      cards: Array<{ extension?: Record<string, { ruleId?: string }> }>;
    };

    // The golden itself is about its rule: P0 answers no card; otherwise a card names the rule.
    if (ruleId === 'P0') expect(expected.cards).toEqual([]);
    else expect(expected.cards.map((card) => card.extension?.['ketamine-protocol']?.ruleId)).toContain(ruleId);
    // …and so does the audit row of this call.
    expect(audits.flatMap((row) => row.ruleIds)).toContain(ruleId);

    expect(res.body).toEqual(expected);
  });
});
