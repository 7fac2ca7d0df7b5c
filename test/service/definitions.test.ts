import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ValueSet } from 'fhir/r4';
import { validatePrefetchTemplates } from '../../src/fhir/prefetch-template';
import {
  DefinitionError,
  discoveryEntry,
  loadDefinitions,
  PREFETCH_FILE,
  SERVICES_DIR,
} from '../../src/service/definitions';
import type { ServiceDefinition } from '../../src/contract/cds-hooks';

const ROOT = path.resolve(__dirname, '../..');
const definitions = loadDefinitions();
const all = [...definitions.values()];
const patientView = definitions.get('ketamine-protocol-patient-view') as ServiceDefinition;

function valueSetCodes(name: string): string[] {
  const vs = JSON.parse(
    readFileSync(path.join(ROOT, 'fhir-resources', 'ValueSet', `${name}.json`), 'utf8'),
  ) as ValueSet;
  return (vs.compose?.include ?? []).flatMap((inc) => (inc.concept ?? []).map((c) => `${inc.system}|${c.code}`));
}

/** The `code=` values of a search template, as system|code. */
function templateCodes(template: string): string[] {
  const query = new URLSearchParams(template.slice(template.indexOf('?') + 1).replace(/\{\{[^}]*\}\}/g, 'x'));
  return (query.get('code') ?? '').split(',').filter(Boolean);
}

describe('the service definitions (cds-hooks/services/*.json)', () => {
  it('define the three services of the contract, one per hook, with title and description', () => {
    expect(all.map((d) => [d.id, d.hook])).toEqual([
      ['ketamine-protocol-order-select', 'order-select'],
      ['ketamine-protocol-order-sign', 'order-sign'],
      ['ketamine-protocol-patient-view', 'patient-view'],
    ]);
    for (const d of all) {
      expect(d.title.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(20);
    }
  });

  it('CH-D3 every prefetch template passes the prefetch module’s recommended-subset check', () => {
    for (const d of all) expect(validatePrefetchTemplates(d.prefetch)).toEqual([]);
  });

  it('CH-D3 every template uses only {{context.patientId}}, reads or type searches, and reviewed parameters (reference, token, _sort, _count)', () => {
    const reviewedParams = new Set(['patient', 'subject', 'code', 'status', '_sort', '_count']);
    for (const template of Object.values(patientView.prefetch)) {
      const tokens = template.match(/\{\{[^}]*\}\}/g) ?? [];
      expect(tokens.every((t) => t === '{{context.patientId}}')).toBe(true);
      const [pathPart = '', query] = template.split('?');
      expect(pathPart).toMatch(/^[A-Z][A-Za-z]+(\/\{\{context\.patientId\}\})?$/);
      for (const name of new URLSearchParams(query ?? '').keys()) expect(reviewedParams.has(name)).toBe(true);
    }
  });

  it('the prefetch covers every resource type the CQL reads', () => {
    const types = new Set(Object.values(patientView.prefetch).map((t) => /^[A-Za-z]+/.exec(t)?.[0]));
    expect([...types].sort()).toEqual(
      [
        'AdverseEvent',
        'AllergyIntolerance',
        'Condition',
        'Consent',
        'DiagnosticReport',
        'Encounter',
        'Medication',
        'MedicationAdministration',
        'MedicationRequest',
        'Observation',
        'Patient',
      ].sort(),
    );
  });

  it.each([
    ['painScores', ['pain-score']],
    ['weights', ['body-weight']],
    ['vitals', ['bp-panel', 'systolic-bp', 'diastolic-bp', 'heart-rate', 'respiratory-rate', 'oxygen-saturation']],
    ['tests', ['pregnancy-test', 'ekg']],
    ['psychotomimeticObservations', ['psychotomimetic-effect']],
    ['diagnosticReports', ['ekg']],
    ['medications', ['ketamine']],
  ])(
    'the %s query asks for exactly the codes of its ValueSets (%p), so the CQL sees what it reads',
    (key, valueSets) => {
      const expected = valueSets.flatMap(valueSetCodes).sort();
      expect(templateCodes(patientView.prefetch[key] ?? '').sort()).toEqual(expected);
    },
  );

  it('the three services read the same record (their prefetch is identical)', () => {
    for (const d of all) expect(d.prefetch).toEqual(patientView.prefetch);
  });

  it('the one shared prefetch (cds-hooks/prefetch.json) names its codes by ValueSet only, never a code', () => {
    const shared = JSON.parse(readFileSync(PREFETCH_FILE, 'utf8')) as { prefetch: Record<string, string> };
    for (const template of Object.values(shared.prefetch)) {
      const codes = new URLSearchParams(template.slice(template.indexOf('?') + 1)).get('code');
      if (codes !== null) expect(codes).toMatch(/^ValueSet\([a-z0-9,-]+\)$/);
    }
  });
});

describe('loading definitions at startup', () => {
  const write = (files: Record<string, unknown>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'services-'));
    for (const [name, json] of Object.entries(files)) writeFileSync(path.join(dir, name), JSON.stringify(json));
    return dir;
  };
  const good = JSON.parse(
    readFileSync(path.join(SERVICES_DIR, 'ketamine-protocol-patient-view.json'), 'utf8'),
  ) as ServiceDefinition;
  const shared = JSON.parse(readFileSync(PREFETCH_FILE, 'utf8')) as { prefetch: Record<string, string> };
  const sharedWith = (prefetch: Record<string, string>) =>
    path.join(
      write({ 'prefetch.json': { ...shared, prefetch: { ...shared.prefetch, ...prefetch } } }),
      'prefetch.json',
    );

  it('CH-D3 a template outside the recommended subset stops startup, naming the key', () => {
    const file = sharedWith({ chained: 'Observation?subject.name=x' });
    expect(() => loadDefinitions(SERVICES_DIR, file)).toThrow(DefinitionError);
    expect(() => loadDefinitions(SERVICES_DIR, file)).toThrow(/prefetch\.chained/);
  });

  it('a ValueSet the project does not have, named in a template, stops startup', () => {
    const file = sharedWith({ lactate: 'Observation?patient={{context.patientId}}&code=ValueSet(lactate)' });
    expect(() => loadDefinitions(SERVICES_DIR, file)).toThrow(/ValueSet\(lactate\) names no ValueSet/);
  });

  it('a service file with a prefetch of its own stops startup (the prefetch is shared)', () => {
    const dir = write({ 'ketamine-protocol-patient-view.json': { ...good, prefetch: shared.prefetch } });
    expect(() => loadDefinitions(dir)).toThrow(/must NOT have additional properties/);
  });

  it('CH-D4 a definition carrying anything besides the public discovery fields stops startup', () => {
    const dir = write({
      'ketamine-protocol-patient-view.json': { ...good, fhirServerAllowlist: ['https://internal.example'] },
    });
    expect(() => loadDefinitions(dir)).toThrow(/must NOT have additional properties/);
  });

  it('a file whose name is not its id stops startup', () => {
    const dir = write({ 'renamed.json': good });
    expect(() => loadDefinitions(dir)).toThrow(/file name must be the id/);
  });

  it('the repository’s definition files all load (no stray file in cds-hooks/services)', () => {
    expect(readdirSync(SERVICES_DIR).filter((f) => f.endsWith('.json'))).toHaveLength(definitions.size);
  });
});

describe('discovery entries', () => {
  it('CH-D2 leave out empty optional values rather than sending "" or {}', () => {
    const entry = discoveryEntry({ ...patientView, usageRequirements: '', prefetch: {} });
    expect(Object.keys(entry).sort()).toEqual(['description', 'hook', 'id', 'title']);
  });
});
