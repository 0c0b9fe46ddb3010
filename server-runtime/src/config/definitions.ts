/**
 * Where APP and APP_CALLABLE point: APP's module part to its file, the callable (APP_CALLABLE's value, or what
 * follows APP's colon) to its definition in that file. Go to definition and the document links (Ctrl+click)
 * both come from here. The module is looked up as the runtime imports it: the config's folder, then the
 * workspace folder.
 */
import { readFileSync } from 'node:fs';
import { appTarget, moduleFile } from './fileChecks';
import type { ParsedConfig } from './parse';
import { findDefinition } from './wsgiCallables';

export interface SourceRange {
  line: number;
  start: number;
  end: number;
}

export interface AppReference {
  /** The span of the config line that points (APP's module part, or the callable's name). */
  origin: SourceRange;
  file: string;
  /** The definition in `file`; undefined for a module (its whole file). */
  target?: SourceRange;
}

function readSource(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every reference of the config's APP and APP_CALLABLE lines that resolves to a file (and definition). */
export function appReferences(parsed: ParsedConfig, dirs: string[]): AppReference[] {
  const references: AppReference[] = [];
  const named = parsed.entries.filter((e) => e.key === 'APP_CALLABLE').pop();
  let effectiveFile: string | undefined;
  let effectiveSource: string | undefined;
  for (const app of parsed.entries.filter((e) => e.key === 'APP')) {
    const { module, callable, colon } = appTarget(app.value, named?.value);
    // The last APP line wins, as in the runtime: APP_CALLABLE points into its module, or nowhere.
    [effectiveFile, effectiveSource] = [undefined, undefined];
    if (!/^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*$/.test(module)) continue;
    const file = dirs.map((d) => moduleFile(d, module)).find((f) => f !== undefined);
    if (!file) continue;
    references.push({
      origin: { line: app.line, start: app.valueStart, end: app.valueStart + module.length },
      file,
    });
    const source = readSource(file);
    // With a colon APP names the callable itself and APP_CALLABLE is moot.
    if (!colon) [effectiveFile, effectiveSource] = [file, source];
    const definition = colon && source !== undefined ? findDefinition(source, callable) : undefined;
    if (definition)
      references.push({
        origin: { line: app.line, start: app.valueEnd - callable.length, end: app.valueEnd },
        file,
        target: definition,
      });
  }
  if (named && effectiveFile && effectiveSource !== undefined) {
    const definition = findDefinition(effectiveSource, named.value);
    if (definition)
      references.push({
        origin: { line: named.line, start: named.valueStart, end: named.valueEnd },
        file: effectiveFile,
        target: definition,
      });
  }
  return references;
}
