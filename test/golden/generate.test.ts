/**
 * The golden request files and the scenarios they come from.
 *
 *   GENERATE_GOLDEN=1 npx jest test/golden/generate   (re)writes test/fixtures/golden/*.request.json
 *
 * Without it, this checks that every scenario's request file is there and still says what the scenario
 * says (time, hook, story, patient, encounter, draft orders), so an edit of scenarios.ts that was not
 * regenerated fails here rather than silently testing something else.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildRequest, GOLDEN_DIR, prefetchTemplates, type GoldenRequest } from './request';
import { RULE_IDS, SCENARIOS } from './scenarios';

const GENERATE = process.env.GENERATE_GOLDEN === '1';
const requestFile = (stem: string) => path.join(GOLDEN_DIR, `${stem}.request.json`);

describe('golden request files', () => {
  it('every scenario file name starts with a protocol rule id and is unique', () => {
    const stems = SCENARIOS.map((s) => s.stem);
    expect(new Set(stems).size).toBe(stems.length);
    for (const stem of stems) expect(RULE_IDS).toContain(stem.split('-')[0]);
  });

  describe.each(SCENARIOS.map((s) => [s.stem, s] as const))('%s', (_stem, scenario) => {
    if (GENERATE) {
      it('is written from the chart as it stood at the scenario time', async () => {
        const request = await buildRequest(scenario);
        mkdirSync(GOLDEN_DIR, { recursive: true });
        writeFileSync(requestFile(scenario.stem), `${JSON.stringify(request, null, 2)}\n`);
        expect(existsSync(requestFile(scenario.stem))).toBe(true);
      });
    }

    it(`${scenario.stem.split('-')[0]}: the request file matches its scenario (time, hook, story, context, every prefetch key)`, () => {
      const request = JSON.parse(readFileSync(requestFile(scenario.stem), 'utf8')) as GoldenRequest;
      expect(request['x-golden-now']).toBe(scenario.at);
      expect(request['x-golden-story']).toBe(scenario.story);
      expect(request.hook).toBe(scenario.hook);
      expect(request.context.patientId).toBe(scenario.patientId);
      expect(request.context.encounterId).toBe(scenario.encounterId);
      expect(request.context.draftOrders?.entry?.map((e) => e.resource) ?? []).toEqual(scenario.draftOrders ?? []);
      expect(Object.keys(request.prefetch).sort()).toEqual(Object.keys(prefetchTemplates(scenario.hook)).sort());
      expect(request.prefetch.patient).toMatchObject({ resourceType: 'Patient', id: scenario.patientId });
      expect(request).not.toHaveProperty('fhirServer');
    });
  });
});
