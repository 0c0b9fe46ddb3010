/**
 * The one schema of the config fields, shared with the Python runtime (config.py loads the same JSON file).
 * esbuild bundles the JSON into dist/languageServer.js; tsc copies it next to out/ thanks to resolveJsonModule.
 */
import schemaJson from '../../python/Server_3_free_threads/config_schema.json';

export type FieldType =
  | 'host'
  | 'hostname'
  | 'port'
  | 'integer'
  | 'number'
  | 'module'
  | 'identifier'
  | 'enum'
  | 'address'
  | 'boolean';

export interface FieldSpec {
  name: string;
  type: FieldType;
  required: boolean;
  default: string | number | boolean;
  example: string;
  description: string;
  min?: number;
  max?: number;
  values?: string[];
  /** The syntax of the value (APP's `module` or `module:callable`); both validators test it. */
  pattern?: string;
}

export const FIELDS: readonly FieldSpec[] = schemaJson.fields as FieldSpec[];
export const FIELD_BY_NAME: ReadonlyMap<string, FieldSpec> = new Map(FIELDS.map((f) => [f.name, f]));
export const REQUIRED_FIELDS: readonly FieldSpec[] = FIELDS.filter((f) => f.required);

/** Words a boolean field accepts (any case), as in config.py. */
export const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
export const FALSE_WORDS = ['0', 'false', 'no', 'off'];

/** `NAME=example`, used in messages and completions. */
export function exampleLine(spec: FieldSpec): string {
  return `${spec.name}=${spec.example}`;
}

/** The default as it is written in a config file (true -> on). */
export function defaultText(spec: FieldSpec): string {
  if (typeof spec.default === 'boolean') return spec.default ? 'on' : 'off';
  return String(spec.default);
}
