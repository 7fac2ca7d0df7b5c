import { loadParameters, parseParameterFile, ParameterFileError, PARAMETER_NAMES } from '../../src/config/parameters';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const file = path.resolve(__dirname, '../../cds-hooks/protocol-parameters.json');
const raw = () => JSON.parse(readFileSync(file, 'utf8'));

describe('the protocol parameter file', () => {
  it('loads every parameter of docs/clinical-specification.md §1 as a plain number with the protocol version', () => {
    const { values } = loadParameters();
    expect(values.protocolVersion).toMatch(/^\d+\.\d+\.\d+$/);
    for (const name of PARAMETER_NAMES) expect(typeof values[name]).toBe('number');
    expect(values.startRate).toBe(0.1);
    expect(values.hardMaxRate).toBe(1);
  });

  it('when a value is not a number, startup stops with a message naming the parameter', () => {
    const json = raw();
    json.parameters.hardMaxRate.value = 'one';
    expect(() => parseParameterFile(json)).toThrow(/\/parameters\/hardMaxRate\/value/);
  });

  it('when a unit is changed, startup stops: a unit change is a code change', () => {
    const json = raw();
    json.parameters.startRate.unit = 'mg/h';
    expect(() => parseParameterFile(json)).toThrow(ParameterFileError);
    expect(() => parseParameterFile(json)).toThrow(/startRate\/unit/);
  });

  it('when a parameter is missing, startup stops naming it', () => {
    const json = raw();
    delete json.parameters.taperStep;
    expect(() => parseParameterFile(json)).toThrow(/taperStep/);
  });

  it('when the soft maximum is above the hard maximum, startup stops naming the relation', () => {
    const json = raw();
    json.parameters.softMaxRate.value = 1.5;
    expect(() => parseParameterFile(json)).toThrow(/softMaxRate must not exceed hardMaxRate/);
  });

  it('when the provenance is not seed, literature or safety, startup stops', () => {
    const json = raw();
    json.parameters.targetPain.provenance = 'hunch';
    expect(() => parseParameterFile(json)).toThrow(/targetPain\/provenance/);
  });
});
