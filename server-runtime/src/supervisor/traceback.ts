/**
 * Finds where to jump for a Python traceback: the innermost frame that belongs to the user's code (inside the
 * working directory, not the runtime, not the standard library). For a SyntaxError Python prints the file and
 * line of the broken source after the frames, so that one wins.
 */
import * as path from 'node:path';

export interface SourceLocation {
  file: string;
  line: number;
}

const FRAME = /^\s*File "([^"]+)", line (\d+)/;

export function locateInTraceback(
  traceback: string,
  cwd: string,
  runtimeDir?: string,
): SourceLocation | undefined {
  const frames: SourceLocation[] = [];
  for (const line of traceback.split(/\r?\n/)) {
    const match = FRAME.exec(line);
    if (!match) continue;
    // "<frozen importlib._bootstrap>", "<string>": not files, and not to be resolved into the workspace.
    const file = match[1].startsWith('<') ? match[1] : path.resolve(cwd, match[1]);
    frames.push({ file, line: Number(match[2]) });
  }
  const isUserFile = (f: SourceLocation) =>
    !f.file.startsWith('<') &&
    (!runtimeDir || !f.file.startsWith(runtimeDir)) &&
    !/[\\/](lib|Lib)[\\/]python\d/.test(f.file) &&
    !f.file.includes('site-packages');
  const inWorkspace = frames.filter((f) => isUserFile(f) && f.file.startsWith(cwd + path.sep));
  return inWorkspace.at(-1) ?? frames.filter(isUserFile).at(-1) ?? frames.at(-1);
}
