/**
 * Turns what a failed runtime left behind (its control-channel error, exit code, last stderr lines) into one
 * ServerError the client can act on: which kind, a message a user understands, and where to go next
 * (file:line to open, a free port to switch to).
 */
import type { ServerError } from '../protocol';
import { findFreePort } from './ports';
import { ExitCode, type ErrorMessage } from './runtimeMessages';
import { locateInTraceback } from './traceback';

async function suggestPort(host = '127.0.0.1'): Promise<number | undefined> {
  try {
    return await findFreePort(host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  } catch {
    return undefined;
  }
}

/** The error the runtime reported on its control channel, completed with a location and a free port. */
export async function describeRuntimeError(
  msg: ErrorMessage,
  cwd: string,
  runtimeDir: string,
): Promise<ServerError> {
  const error: ServerError = { kind: msg.kind, message: msg.message };
  if (msg.thread) error.thread = msg.thread;
  if (msg.traceback) error.traceback = msg.traceback;
  if (msg.file) {
    error.file = msg.file;
    if (msg.line) error.line = msg.line;
  } else if (msg.traceback) {
    const where = locateInTraceback(msg.traceback, cwd, runtimeDir);
    if (where) Object.assign(error, where);
  }
  if (msg.kind === 'port-in-use') error.suggestedPort = await suggestPort();
  return error;
}

/** The tail of stderr from the first "Traceback" line on, or the last few lines when there is none. */
function tracebackOrTail(stderr: string[]): string {
  let start = -1;
  stderr.forEach((line, i) => {
    if (line.startsWith('Traceback')) start = i;
  });
  return (start >= 0 ? stderr.slice(start) : stderr.slice(-10)).join('\n');
}

/** Why the process ended, preferring what the runtime said itself over what the exit code implies. */
export async function describeExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string[],
  reported: ServerError | undefined,
  cwd: string,
  runtimeDir: string,
): Promise<ServerError> {
  if (reported) return reported;
  const tail = tracebackOrTail(stderr);
  const lastLine = stderr.filter((l) => l.trim()).at(-1) ?? '';
  switch (code) {
    case ExitCode.configInvalid:
      return {
        kind: 'config-invalid',
        message: lastLine || 'the runtime rejected the config (see the output)',
      };
    case ExitCode.appImport: {
      const error: ServerError = {
        kind: 'app-import',
        message: lastLine || 'see the traceback in the output',
        traceback: tail,
      };
      return { ...error, ...locateInTraceback(tail, cwd, runtimeDir) };
    }
    case ExitCode.addressInUse:
      return {
        kind: 'port-in-use',
        message: lastLine || 'The address is already in use.',
        suggestedPort: await suggestPort(),
      };
    case ExitCode.stageDied: {
      // Normally the runtime said so on the control channel (reported, above); this is the stderr fallback.
      const died = stderr.find((line) => / thread died /.test(line));
      const thread = died?.match(/the (\S+) thread died/)?.[1];
      return {
        kind: 'stage-died',
        message:
          died?.match(/the \S+ thread died \(.*?\)(?=; the server)/)?.[0] ?? 'A thread of the server died.',
        ...(tail ? { traceback: tail } : {}),
        ...(thread ? { thread } : {}),
      };
    }
  }
  if (signal)
    return { kind: 'crashed', message: `The server was killed by ${signal}.`, traceback: tail || undefined };
  if (code === ExitCode.clean) return { kind: 'other', message: 'The server exited.' };
  return {
    kind: 'other',
    message: `The server exited with code ${code}${lastLine ? `: ${lastLine}` : ''}.`,
    traceback: tail || undefined,
  };
}

export function describeSpawnError(error: Error, python: string): ServerError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES')
    return {
      kind: 'interpreter-missing',
      message: `The Python interpreter "${python}" was not found or is not executable (${code}). Select an interpreter with the Python extension or set server3.pythonPath.`,
    };
  return { kind: 'other', message: `Could not start "${python}": ${error.message}` };
}
