/**
 * Asks an interpreter for its version and real path (argv array, no shell), and decides whether it can run the
 * server (3.10 or newer). No vscode import: unit-tested against the real python3 of the machine.
 */
import { execFile } from 'node:child_process';

export const MIN_PYTHON: readonly [number, number] = [3, 10];

export interface PythonCheck {
  ok: boolean;
  /** The command that was run, as given. */
  command: string;
  executable?: string;
  version?: string;
  /** A free-threaded build (python3.13t, ...): with the GIL off the server's threads run in parallel. */
  freeThreaded?: boolean;
  /** A virtual environment (its own packages), not a base interpreter. */
  venv?: boolean;
  /** What went wrong, for the user: missing or too old. */
  problem?: { kind: 'interpreter-missing' | 'interpreter-too-old'; message: string };
}

const PROBE = [
  'import sys, sysconfig',
  'print("%d.%d.%d" % sys.version_info[:3])',
  'print(sys.executable)',
  'print(int(bool(sysconfig.get_config_var("Py_GIL_DISABLED"))))',
  'print(int(sys.prefix != sys.base_prefix))',
].join('; ');

export function isRecentEnough(version: string, min: readonly [number, number] = MIN_PYTHON): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

export function checkPython(command: string, timeoutMs = 10_000): Promise<PythonCheck> {
  return new Promise((resolve) => {
    execFile(command, ['-c', PROBE], { timeout: timeoutMs }, (error, stdout) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'was not found' : `could not be run (${code ?? error.message})`;
        resolve({
          ok: false,
          command,
          problem: {
            kind: 'interpreter-missing',
            message: `The Python interpreter "${command}" ${why}. Select an interpreter (Python extension) or set "server3.pythonPath" to Python ${MIN_PYTHON.join('.')}+.`,
          },
        });
        return;
      }
      const [version, executable, freeThreaded, venv] = stdout.trim().split(/\r?\n/);
      if (!isRecentEnough(version)) {
        resolve({
          ok: false,
          command,
          version,
          executable,
          problem: {
            kind: 'interpreter-too-old',
            message: `"${command}" is Python ${version}; the server needs Python ${MIN_PYTHON.join('.')} or newer. Select a newer interpreter or set "server3.pythonPath".`,
          },
        });
        return;
      }
      resolve({
        ok: true,
        command,
        version,
        executable,
        freeThreaded: freeThreaded === '1',
        venv: venv === '1',
      });
    });
  });
}
