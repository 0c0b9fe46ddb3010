/** Where tests leave files worth looking at after a run (CI keeps .test-artifacts/ as an artifact). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './codeServer';

export const ARTIFACTS_DIR = path.join(REPO_ROOT, '.test-artifacts');
export const SCREENSHOTS_DIR = path.join(ARTIFACTS_DIR, 'screenshots');

export function artifactPath(...parts: string[]): string {
  const file = path.join(ARTIFACTS_DIR, ...parts);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}
