/**
 * Problems -> LSP diagnostics: source "server3", code = the problem code, suggestion kept in data; a line
 * without effect (a duplicate, an overridden APP_CALLABLE) is faded (DiagnosticTag.Unnecessary) and a
 * duplicate links to the line that wins (relatedInformation).
 */
import { type Diagnostic, DiagnosticSeverity, DiagnosticTag } from 'vscode-languageserver/node';
import { NO_EFFECT_CODES, type Problem } from './problem';

export const DIAGNOSTIC_SOURCE = 'server3';

/** `uri`: the document's, for the related information's location (left out without it). */
export function toDiagnostic(p: Problem, uri?: string): Diagnostic {
  const diagnostic: Diagnostic = {
    range: { start: { line: p.line, character: p.start }, end: { line: p.line, character: p.end } },
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: DIAGNOSTIC_SOURCE,
    code: p.code,
    message: p.message,
    data: p.suggestion ? { suggestion: p.suggestion } : undefined,
  };
  if (NO_EFFECT_CODES.has(p.code)) diagnostic.tags = [DiagnosticTag.Unnecessary];
  if (p.related && uri) {
    const r = p.related;
    diagnostic.relatedInformation = [
      {
        location: {
          uri,
          range: { start: { line: r.line, character: r.start }, end: { line: r.line, character: r.end } },
        },
        message: r.message,
      },
    ];
  }
  return diagnostic;
}

/**
 * At most `max` diagnostics for one file, errors before warnings, each in line order, and when some are left
 * out, one more at the first of those saying how many: a file with thousands of problems (a pasted log) would
 * otherwise cost the editor seconds per keystroke, and nobody reads past the first screenful.
 */
export function cappedDiagnostics(problems: Problem[], uri: string, max: number): Diagnostic[] {
  if (problems.length <= max) return problems.map((p) => toDiagnostic(p, uri));
  const ordered = [...problems].sort((a, b) =>
    a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1,
  );
  const shown = ordered.slice(0, max);
  const hidden = ordered.slice(max);
  const first = hidden.reduce((a, b) => (b.line < a.line ? b : a));
  const errors = hidden.filter((p) => p.severity === 'error').length;
  const what = errors === hidden.length ? 'errors' : errors ? 'problems' : 'warnings';
  return [
    ...shown.map((p) => toDiagnostic(p, uri)),
    {
      range: {
        start: { line: first.line, character: first.start },
        end: { line: first.line, character: first.end },
      },
      severity: DiagnosticSeverity.Information,
      source: DIAGNOSTIC_SOURCE,
      code: 'more-problems',
      message: `${hidden.length} more ${what} not shown (only the first ${max} are): fix these, the rest follow`,
    },
  ];
}
