/** The declared settings schema (src/config/settings.schema.json) is what loadConfig checks first. */
import { loadConfig } from '../../src/config/env';
import { configProblems } from '../support/config';
import { SETTINGS } from '../../src/config/settings';

const problems = configProblems;

describe('the settings schema', () => {
  it('when a value breaks the schema, the message names the variable, what it must be and the value given', () => {
    expect(problems({ PORT: 'eighty' })).toEqual(['PORT must be a whole number from 0 to 65535 (got "eighty")']);
    expect(problems({ DATABASE_URL: 'mysql://db/x' })).toEqual([
      'DATABASE_URL must be a postgres:// or postgresql:// URL (got "mysql://db/x")',
    ]);
    expect(problems({ DATABASE_SCHEMA: 'Bad-Name' })).toEqual([
      'DATABASE_SCHEMA must be a lower-case SQL identifier (letters, digits, _) (got "Bad-Name")',
    ]);
    expect(problems({ REQUEST_LIMIT: '0' })).toEqual([
      'REQUEST_LIMIT must be a size like 2mb, 500kb or 1048576 (got "0")',
    ]);
  });

  it('when a whole number is beyond the safe integers, it is refused', () => {
    expect(problems({ DEADLINE_MS: '99999999999999999999' }).join('\n')).toMatch(/DEADLINE_MS must be a whole number/);
    expect(problems({ PORT: '0x10', DEADLINE_MS: '1e3' })).toHaveLength(2);
  });

  it('when a switch is written in capitals, it is still read (DEMO_FHIR_PUBLIC=ON)', () => {
    expect(loadConfig({ DEMO_FHIR_PUBLIC: 'ON' }).config.demoFhirPublic).toBe(true);
    expect(loadConfig({ DEMO_FHIR_PUBLIC: 'No' }).config.demoFhirPublic).toBe(false);
  });

  it('when reading the schema, every setting has a description and a README default', () => {
    for (const setting of Object.values(SETTINGS)) {
      expect(setting.description.length).toBeGreaterThan(0);
      expect(setting.readmeDefault.length).toBeGreaterThan(0);
    }
  });
});
