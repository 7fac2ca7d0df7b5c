/**
 * The declared schema of every setting (src/config/settings.schema.json) and the first pass over the
 * environment: ajv checks types, ranges, patterns and allowed values, and fills the static defaults. What a
 * schema cannot express (URLs, time zones, CORS origins, trusted issuers, byte sizes) is checked after it,
 * in env.ts. The README's settings table is generated from the same file (src/scripts/settings-table.mjs).
 */
import Ajv2020 from 'ajv/dist/2020';
import schema from './settings.schema.json';

export interface SettingSchema {
  type: 'integer' | 'string';
  minimum?: number;
  maximum?: number;
  enum?: string[];
  pattern?: string;
  default?: string | number;
  description: string;
  /** The README's "default" column (may describe a computed default). */
  readmeDefault: string;
  /** What a bad value must be, for the message ("must be …"); integers derive theirs from the range. */
  problem?: string;
  /** Compared in lower case (switches like on/off). */
  caseInsensitive?: boolean;
  /** Read by another module, which checks it itself; documented here, not validated by loadConfig. */
  readBy?: string;
}

export const SETTINGS = schema.properties as Record<string, SettingSchema>;

/** A setting's value after the schema pass: a number for integers, else the trimmed string; undefined = unset or bad. */
export type SettingValues = Record<string, string | number | undefined>;

const ajv = new Ajv2020({ allErrors: true, strict: true, coerceTypes: true, useDefaults: true });
ajv.addVocabulary(['readmeDefault', 'problem', 'caseInsensitive', 'readBy']);
const validate = ajv.compile(schema);

/** Checks every declared setting of `env` at once; each problem names its variable. */
export function readSettings(env: NodeJS.ProcessEnv): { values: SettingValues; problems: string[] } {
  const input: Record<string, unknown> = {};
  const raw: Record<string, string> = {};
  for (const [name, setting] of Object.entries(SETTINGS)) {
    if (setting.readBy !== undefined) continue;
    const v = env[name]?.trim();
    if (v === undefined || v === '') continue;
    raw[name] = setting.caseInsensitive ? v.toLowerCase() : v;
    input[name] = raw[name];
  }
  validate(input);
  const bad = new Set<string>();
  for (const error of validate.errors ?? []) bad.add(error.instancePath.split('/')[1] ?? '');
  for (const [name, setting] of Object.entries(SETTINGS)) {
    // Digits only, as before the schema: ajv's coercion would also take "1e3" or "0x10".
    const digits = raw[name] === undefined || /^\d+$/.test(raw[name]);
    if (
      setting.type === 'integer' &&
      (!digits || (typeof input[name] === 'number' && !Number.isSafeInteger(input[name])))
    )
      bad.add(name);
  }
  const problems: string[] = [];
  const values: SettingValues = {};
  for (const [name, setting] of Object.entries(SETTINGS)) {
    if (setting.readBy !== undefined) continue;
    if (!bad.has(name)) {
      values[name] = input[name] as string | number | undefined;
      continue;
    }
    const must =
      setting.type === 'integer'
        ? `must be a whole number from ${setting.minimum ?? 0} to ${setting.maximum ?? Number.MAX_SAFE_INTEGER}`
        : (setting.problem ?? `must be one of ${(setting.enum ?? []).join(', ')}`);
    problems.push(`${name} ${must} (got ${JSON.stringify(raw[name])})`);
    values[name] = setting.default;
  }
  return { values, problems };
}
