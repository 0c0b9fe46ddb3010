/**
 * A problem found in a config file. The codes are a contract shared with the Python validator (config.py),
 * the shared test vectors (test/vectors/config) and the code actions: see docs/config.md for the list.
 */
export type Severity = 'error' | 'warning';

export interface Problem {
  /** 0-based line, as in LSP (the Python side and `path:LINE` messages are 1-based). */
  line: number;
  /** 0-based columns (UTF-16 code units), end exclusive. */
  start: number;
  end: number;
  severity: Severity;
  code: string;
  message: string;
  /**
   * The text the message's "did you mean" proposes for the span start..end: a misspelt key's known key,
   * `combined` for `Combined`, `PORT=8000` for `PORT 8000`. The quick fix writes it there.
   */
  suggestion?: string;
  /** Another place the message talks about (the line a duplicate loses to); the editor links to it. */
  related?: { line: number; start: number; end: number; message: string };
}

/** Problems whose line does nothing: the editor fades it (a duplicate, an overridden APP_CALLABLE). */
export const NO_EFFECT_CODES: ReadonlySet<string> = new Set(['duplicate-key', 'overridden-callable']);

/** `path:LINE: error: message`, the same one-line form the Python runtime prints. */
export function formatProblem(problem: Problem, path?: string): string {
  const where = path ? `${path}:${problem.line + 1}` : `line ${problem.line + 1}`;
  return `${where}: ${problem.severity}: ${problem.message}`;
}

export function compareProblems(a: Problem, b: Problem): number {
  return (
    a.line - b.line || a.start - b.start || a.end - b.end || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}
