/** Problems -> LSP diagnostics: source "server3", code = the problem code, suggestion kept in data. */
import { type Diagnostic, DiagnosticSeverity } from 'vscode-languageserver/node';
import type { Problem } from './problem';

export const DIAGNOSTIC_SOURCE = 'server3';

export function toDiagnostic(p: Problem): Diagnostic {
  return {
    range: { start: { line: p.line, character: p.start }, end: { line: p.line, character: p.end } },
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: DIAGNOSTIC_SOURCE,
    code: p.code,
    message: p.message,
    data: p.suggestion ? { suggestion: p.suggestion } : undefined,
  };
}
