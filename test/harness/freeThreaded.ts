/**
 * Where the free-threaded CPython 3.13t that scripts/setup.sh builds lives (its cache folder: SERVER3_FT_CACHE,
 * else ~/.cache/server3-free-threads of the user running the tests). code-server runs the extension host with a
 * scratch HOME, so the harness passes SERVER3_FT_CACHE on: the extension's interpreter discovery looks there.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const FT_CACHE =
  process.env.SERVER3_FT_CACHE || path.join(os.homedir(), '.cache', 'server3-free-threads');
export const FT_PYTHON = path.join(FT_CACHE, 'cpython-3.13t', 'bin', 'python3.13t');
