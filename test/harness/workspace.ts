/**
 * Scratch copies of example/fixture workspaces, so tests never edit the repository and never use a fixed port:
 * the copy's .config_server gets PORT=<a free port> (and HOST=127.0.0.1).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './codeServer';
import { freePort } from './freePort';

export const HELLO_EXAMPLE = path.join(REPO_ROOT, 'examples', 'hello');

export interface ScratchWorkspace {
  dir: string;
  /** The port written into the copy's .config_server. */
  appPort: number;
  remove(): void;
}

/** Copies `source` (default examples/hello) into a temp folder and points its .config_server at a free port. */
export async function copyWorkspace(source = HELLO_EXAMPLE, name = 'workspace'): Promise<ScratchWorkspace> {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-ws-'));
  const dir = path.join(parent, name);
  fs.cpSync(source, dir, { recursive: true, filter: (src) => !/__pycache__|\.pyc$/.test(src) });
  const appPort = await freePort();
  const configFile = path.join(dir, '.config_server');
  if (fs.existsSync(configFile)) {
    const config = fs
      .readFileSync(configFile, 'utf8')
      .replace(/^PORT\s*=.*$/m, `PORT=${appPort}`)
      .replace(/^HOST\s*=.*$/m, 'HOST=127.0.0.1');
    fs.writeFileSync(configFile, config);
  }
  const removeCopy = (): void => fs.rmSync(parent, { recursive: true, force: true });
  process.on('exit', removeCopy); // also when a run is interrupted (the signal handlers end with process.exit)
  return {
    dir,
    appPort,
    remove: () => {
      process.off('exit', removeCopy);
      removeCopy();
    },
  };
}
