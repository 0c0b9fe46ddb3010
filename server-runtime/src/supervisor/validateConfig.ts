/**
 * "Validate first": checks a config file before a start or an auto-restart, with the same validator the
 * language server uses for its diagnostics (config/validate.ts), so a broken config is explained by the
 * problems the user also sees in the editor, and never replaces a running server. Only errors block a start;
 * warnings (unknown key, module not found on disk...) are left to the runtime.
 */
import { readFile } from 'node:fs/promises';
import { formatProblem } from '../config/problem';
import { validateConfigText } from '../config/validate';
import type { ServerError } from '../protocol';

/** How many problems the message lists before "and N more". */
const LISTED = 3;

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
  const errors = validateConfigText(text, { fileSystem: false }).filter((p) => p.severity === 'error');
  if (!errors.length) return undefined;
  const listed = errors.slice(0, LISTED).map((p) => formatProblem(p, configPath));
  const more = errors.length > LISTED ? ` (and ${errors.length - LISTED} more)` : '';
  return {
    kind: 'config-invalid',
    message: `${errors.length === 1 ? 'the config has an error' : `the config has ${errors.length} errors`}: ${listed.join('; ')}${more}`,
    file: configPath,
    line: errors[0].line + 1,
  };
}
