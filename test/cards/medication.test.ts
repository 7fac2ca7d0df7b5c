import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ValueSet } from 'fhir/r4';
import {
  KETAMINE_VALUESET_FILE,
  loadKetamineMedication,
  medicationConceptFromValueSet,
  RXNORM_SYSTEM,
} from '../../src/cards/medication';
import { ketamineValueSet } from './fixtures';

describe('the medication put on draft orders comes from the Ketamine ValueSet', () => {
  it('prefers the RxNorm concept displayed as the bare ingredient name over the solutions listed before it', () => {
    expect(medicationConceptFromValueSet(ketamineValueSet)).toEqual({
      coding: [{ system: RXNORM_SYSTEM, code: 'rx-in-1', display: 'ketamine' }],
      text: 'ketamine',
    });
  });

  it('falls back to the first RxNorm concept, from compose or expansion', () => {
    const expansionOnly: ValueSet = {
      resourceType: 'ValueSet',
      status: 'active',
      expansion: {
        timestamp: '2026-01-01',
        contains: [
          { system: 'http://snomed.info/sct', code: 's' },
          { system: RXNORM_SYSTEM, code: 'rx-9', display: 'Ketamine 50 MG/ML' },
        ],
      },
    };
    expect(medicationConceptFromValueSet(expansionOnly).coding?.[0]?.code).toBe('rx-9');
  });

  it('a ValueSet without an RxNorm concept is an error, not a guess', () => {
    const snomedOnly: ValueSet = {
      resourceType: 'ValueSet',
      status: 'active',
      compose: { include: [{ system: 'http://snomed.info/sct', concept: [{ code: 's' }] }] },
    };
    expect(() => medicationConceptFromValueSet(snomedOnly)).toThrow(/no RxNorm concept/);
  });

  it("reads the project's ValueSet file: the ingredient concept it lists", () => {
    const file = JSON.parse(readFileSync(KETAMINE_VALUESET_FILE, 'utf8')) as ValueSet;
    const ingredient = file.compose?.include
      .filter((inc) => inc.system === RXNORM_SYSTEM)
      .flatMap((inc) => inc.concept ?? [])
      .find((c) => c.display === 'ketamine');
    expect(ingredient).toBeDefined();
    expect(loadKetamineMedication().coding?.[0]).toEqual({
      system: RXNORM_SYSTEM,
      code: ingredient?.code,
      display: 'ketamine',
    });
  });

  it('a missing ValueSet file is reported with its path', () => {
    const missing = path.join(mkdtempSync(path.join(tmpdir(), 'vs-')), 'ketamine.json');
    expect(() => loadKetamineMedication(missing)).toThrow(missing);
    writeFileSync(missing, JSON.stringify(ketamineValueSet));
    expect(loadKetamineMedication(missing).coding?.[0]?.code).toBe('rx-in-1');
  });
});
