/**
 * The protocol parameters: the one reviewed file (cds-hooks/protocol-parameters.json) loaded,
 * checked against its JSON Schema and against the relations between values, and handed out as
 * plain numbers. Nothing else in src/ or in the CQL may hold a protocol number.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { packageRoot } from './paths';

export const PARAMETER_NAMES = [
  'startRate',
  'escalationStep',
  'minHoursBetweenChanges',
  'maxHoursBetweenChanges',
  'targetPain',
  'sustainedHours',
  'minScoresForSustained',
  'taperStep',
  'softMaxRate',
  'hardMaxRate',
  'painMaxAgeHours',
  'weightMaxAgeDays',
  'pregnancyTestMaxAgeDays',
  'ekgMaxAgeDays',
  'vitalsMaxAgeHours',
  'sbpHigh',
  'sbpLow',
  'dbpHigh',
  'hrHigh',
  'hrLow',
  'rrHigh',
  'rrLow',
  'spo2Low',
  'minAgeYears',
  'lookbackDays',
  'minPlausibleWeight',
  'maxPlausibleWeight',
  'maxPlausibleRate',
  'defaultConcentration',
  'hcgNegativeBelow',
  'hcgPositiveAtOrAbove',
  'painScaleMax',
  'vasMmPerPoint',
  'rateRounding',
  'doseRounding',
  'volumeRounding',
  'rateTolerance',
  'gapToleranceMinutes',
] as const;

type ParameterName = (typeof PARAMETER_NAMES)[number];
type Provenance = 'seed' | 'literature' | 'safety';

interface ParameterEntry {
  value: number;
  unit: string;
  provenance: Provenance;
  source: string;
  rationale: string;
}

/** Every protocol number, by name, as a plain number (units are fixed by the schema). */
export type ProtocolParameters = Readonly<Record<ParameterName, number>> & {
  readonly protocolVersion: string;
};

export interface ParameterFile {
  protocolVersion: string;
  title: string;
  citation: string;
  evidenceLevel: string;
  reviewedBy?: string;
  parameters: Record<ParameterName, ParameterEntry>;
}

export class ParameterFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(`Protocol parameter file ${file} is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ParameterFileError';
  }
}

// From the project root (not __dirname): the same paths under ts (src/config) and once built (dist/src/config).
const DEFAULT_PARAMETER_FILE = path.join(packageRoot(), 'cds-hooks', 'protocol-parameters.json');
const SCHEMA_FILE = path.join(packageRoot(), 'cds-hooks', 'protocol-parameters.schema.json');

/** Relations the schema cannot express; each failing one is reported by name. */
function relationProblems(p: Record<ParameterName, number>): string[] {
  const rules: Array<[boolean, string]> = [
    [
      p.minHoursBetweenChanges <= p.maxHoursBetweenChanges,
      'minHoursBetweenChanges must not exceed maxHoursBetweenChanges',
    ],
    [p.startRate <= p.softMaxRate, 'startRate must not exceed softMaxRate'],
    [p.softMaxRate <= p.hardMaxRate, 'softMaxRate must not exceed hardMaxRate'],
    [p.hardMaxRate < p.maxPlausibleRate, 'hardMaxRate must be below maxPlausibleRate'],
    [p.minPlausibleWeight < p.maxPlausibleWeight, 'minPlausibleWeight must be below maxPlausibleWeight'],
    [p.targetPain < p.painScaleMax, 'targetPain must be below painScaleMax'],
    [p.sbpLow < p.sbpHigh, 'sbpLow must be below sbpHigh'],
    [p.hrLow < p.hrHigh, 'hrLow must be below hrHigh'],
    [p.rrLow < p.rrHigh, 'rrLow must be below rrHigh'],
    [p.hcgNegativeBelow <= p.hcgPositiveAtOrAbove, 'hcgNegativeBelow must not exceed hcgPositiveAtOrAbove'],
    [Number.isInteger(p.minScoresForSustained), 'minScoresForSustained must be a whole number'],
    [p.rateTolerance < p.rateRounding, 'rateTolerance must be smaller than rateRounding'],
    [
      p.escalationStep >= p.rateRounding && p.taperStep >= p.rateRounding,
      'steps must not be smaller than rateRounding',
    ],
  ];
  return rules.filter(([ok]) => !ok).map(([, message]) => message);
}

export function parseParameterFile(
  json: unknown,
  file = 'protocol-parameters.json',
): { file: ParameterFile; values: ProtocolParameters } {
  const schema = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile<ParameterFile>(schema);
  if (!validate(json)) {
    const problems = (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'allowedValue' in e.params ? ` (${JSON.stringify(e.params.allowedValue)})` : ''}`,
    );
    throw new ParameterFileError(file, problems);
  }
  const values = Object.fromEntries(PARAMETER_NAMES.map((n) => [n, json.parameters[n].value])) as Record<
    ParameterName,
    number
  >;
  const problems = relationProblems(values);
  if (problems.length > 0) throw new ParameterFileError(file, problems);
  return { file: json, values: Object.freeze({ ...values, protocolVersion: json.protocolVersion }) };
}

export function loadParameters(file = DEFAULT_PARAMETER_FILE): { file: ParameterFile; values: ProtocolParameters } {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ParameterFileError(file, [`cannot be read as JSON: ${(err as Error).message}`]);
  }
  return parseParameterFile(json, file);
}
