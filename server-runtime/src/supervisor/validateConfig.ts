/**
 * "Validate first": checks a config file before a start or an auto-restart, with the same validator the
 * language server uses for its diagnostics (config/validate.ts), so a broken config is explained by the
 * problems the user also sees in the editor, and never replaces a running server. Only errors block a start;
 * warnings (unknown key, module not found on disk...) are left to the runtime.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { formatProblem, type Problem } from '../config/problem';
import { validateConfigText } from '../config/validate';
import type { ServerError } from '../protocol';

/** How many problems the message lists before "and N more". */
const LISTED = 3;

/**
 * The problem with the config at `configPath`, or undefined when it has no error. Messages name the file
 * relative to `cwd` (the server's working directory, the workspace folder): notifications stay short.
 */
export async function validateConfigFile(configPath: string, cwd?: string): Promise<ServerError | undefined> {
  const shown = cwd ? path.relative(cwd, configPath) || path.basename(configPath) : configPath;
  let bytes: Buffer;
  try {
    bytes = await readFile(configPath);
  } catch (e) {
    const reason =
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message;
    return {
      kind: 'config-invalid',
      message: `Cannot read the config file ${shown}: ${reason}`,
      file: configPath,
    };
  }
  const decoded = decodeConfig(bytes);
  const errors =
    'problem' in decoded
      ? [decoded.problem]
      : validateConfigText(decoded.text).filter((p) => p.severity === 'error'); // no file checks: all warnings
  if (!errors.length) return undefined;
  const listed = errors.slice(0, LISTED).map((p) => formatProblem(p, shown));
  const more = errors.length > LISTED ? ` (and ${errors.length - LISTED} more)` : '';
  return {
    kind: 'config-invalid',
    message: `${errors.length === 1 ? 'the config has an error' : `the config has ${errors.length} errors`}: ${listed.join('; ')}${more}`,
    file: configPath,
    line: errors[0].line + 1,
  };
}

/**
 * The text of a config file: UTF-8, a leading BOM dropped; bytes that are not UTF-8 give one not-utf8 problem
 * at the first of them, with the same message as decode_config() in config.py (columns count characters, as
 * Python's do). (The editor decodes files itself, so the language server never sees this: only a start does.)
 */
export function decodeConfig(bytes: Uint8Array): { text: string } | { problem: Problem } {
  // TextDecoder drops a leading BOM itself (ignoreBOM is false), in the text and in the column below.
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const bad = firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, bad);
    const lineStart = before.lastIndexOf(0x0a) + 1;
    const line = before.filter((b) => b === 0x0a).length;
    const column = [...new TextDecoder().decode(before.subarray(lineStart))].length;
    // A byte that starts no valid sequence is 0x80 or more: always two hex digits.
    const byte = bytes[bad].toString(16);
    return {
      problem: {
        line,
        start: column,
        end: column + 1,
        severity: 'error',
        code: 'not-utf8',
        message:
          `not UTF-8 text: byte 0x${byte} at column ${column + 1} of this line; save the file as UTF-8 ` +
          '(in VS Code: click the encoding in the status bar, Save with Encoding)',
      },
    };
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (as Python reports it). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // The longest valid prefix: grow it one complete sequence at a time (configs are small). The length of a
  // sequence comes from its lead byte; the thresholds are the smallest valid lead bytes of 4, 3 and 2 bytes
  // (0xc0 and 0xc1 only start overlong forms: as one byte they fail just the same).
  let i = 0;
  while (i < bytes.length) {
    let length = 1;
    const b = bytes[i];
    if (b >= 0xf0) length = 4;
    else if (b >= 0xe0) length = 3;
    else if (b >= 0xc2) length = 2;
    try {
      decoder.decode(bytes.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return bytes.length;
}
