/**
 * validateConfigText(): every problem of a config text, the same ones (codes, spans, severities) config.py
 * reports. A plain function with no LSP in it: the language server publishes its result as diagnostics and
 * the supervisor calls it to validate a config before it starts a server.
 */
import { fileSystemProblems, type FileCheckOptions } from './fileChecks';
import { suggestKey } from './keys';
import { type EntryLine, type ParsedConfig, parseConfig } from './parse';
import { compareProblems, type Problem } from './problem';
import { exampleLine, FIELD_BY_NAME, REQUIRED_FIELDS } from './schema';
import { checkValue, IDENTIFIER_RE, valuePattern } from './values';

export interface ValidateOptions extends FileCheckOptions {
  /** Run the file-system checks (module exists, callable defined, somaxconn). Default: when configDir is set. */
  fileSystem?: boolean;
}

export interface Validation {
  parsed: ParsedConfig;
  problems: Problem[];
}

export function validateConfigText(text: string, options: ValidateOptions = {}): Problem[] {
  return validate(text, options).problems;
}

export function validate(text: string, options: ValidateOptions = {}): Validation {
  const parsed = parseConfig(text);
  const problems = [...parsed.problems];
  const known: EntryLine[] = [];
  for (const entry of parsed.entries) {
    const keyProblem = checkKey(entry);
    if (keyProblem) {
      problems.push(keyProblem);
      continue;
    }
    known.push(entry);
    const spec = FIELD_BY_NAME.get(entry.key)!;
    if (entry.value === '' && spec.type !== 'address') {
      problems.push({
        line: entry.line,
        start: entry.keyStart,
        end: entry.equals + 1,
        severity: 'error',
        code: 'empty-value',
        message: `${entry.key} has no value: write one after =, e.g. ${exampleLine(spec)}`,
      });
      continue;
    }
    const bad = checkValue(spec, entry.value);
    if (bad) problems.push({ line: entry.line, start: entry.valueStart, end: entry.valueEnd, ...bad });
  }
  problems.push(...callableProblems(known), ...duplicateProblems(known), ...missingProblems(known));
  const fileSystem = options.fileSystem ?? options.configDir !== undefined;
  if (fileSystem) problems.push(...fileSystemProblems(known, options));
  return { parsed, problems: problems.sort(compareProblems) };
}

function checkKey(entry: EntryLine): Problem | undefined {
  if (FIELD_BY_NAME.has(entry.key)) return undefined;
  const suggestion = suggestKey(entry.key);
  const span = { line: entry.line, start: entry.keyStart, end: entry.keyEnd };
  if (suggestion === entry.key.toUpperCase()) {
    return {
      ...span,
      severity: 'error',
      code: 'wrong-case-key',
      message: `keys are upper-case: write ${suggestion}, not ${entry.key}`,
      suggestion,
    };
  }
  const hint = suggestion ? `did you mean ${suggestion}? ` : '';
  return {
    ...span,
    severity: 'warning',
    code: 'unknown-key',
    message: `unknown key ${entry.key}: ${hint}the server ignores it (see docs/config.md for the keys)`,
    suggestion,
  };
}

/**
 * APP=module:callable (gunicorn's form) names the callable itself: an APP_CALLABLE line beside it has no
 * effect (a warning on that line, the last one when it repeats). Only for a valid APP: the effective one.
 */
function callableProblems(entries: EntryLine[]): Problem[] {
  const app = entries
    .filter((e) => e.key === 'APP' && valuePattern(FIELD_BY_NAME.get('APP')!).test(e.value))
    .pop();
  const colon = app ? app.value.indexOf(':') : -1;
  const named = entries.filter((e) => e.key === 'APP_CALLABLE' && IDENTIFIER_RE.test(e.value)).pop();
  if (!app || colon < 0 || !named) return [];
  return [
    {
      line: named.line,
      start: named.keyStart,
      end: named.valueEnd,
      severity: 'warning',
      code: 'overridden-callable',
      message:
        `APP_CALLABLE has no effect: APP=${app.value.slice(0, colon)}:${app.value.slice(colon + 1)} ` +
        'names the callable after the colon; remove this line',
    },
  ];
}

/** Every occurrence of a key but the last one: the last value wins (as in the 0.2 parser). */
function duplicateProblems(entries: EntryLine[]): Problem[] {
  const last = new Map(entries.map((e) => [e.key, e]));
  return entries
    .filter((e) => last.get(e.key) !== e)
    .map((e) => {
      const winner = last.get(e.key)!;
      return {
        line: e.line,
        start: e.keyStart,
        end: e.keyEnd,
        severity: 'warning',
        code: 'duplicate-key',
        message: `${e.key} is set again on line ${winner.line + 1}, which wins: this line has no effect; remove it`,
        related: {
          line: winner.line,
          start: winner.keyStart,
          end: winner.valueEnd,
          message: `${e.key}=${winner.value} wins`,
        },
      };
    });
}

/** Missing required fields sit at line 0, columns 0-0 (zero width): there is no better place for them. */
function missingProblems(entries: EntryLine[]): Problem[] {
  const present = new Set(entries.map((e) => e.key));
  return REQUIRED_FIELDS.filter((f) => !present.has(f.name)).map((f) => ({
    line: 0,
    start: 0,
    end: 0,
    severity: 'error',
    code: 'missing-required',
    message: `missing required field ${f.name}: add a line ${f.name}=${f.example}`,
  }));
}
