/**
 * "Validate first" as the supervisor does it before a start: a file that is not UTF-8 is named by line and
 * column (as config.py's decode_config names it), and messages name the config relative to the server's
 * working directory, so a notification does not repeat an absolute path.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeConfig, validateConfigFile } from '../../server-runtime/src/supervisor/validateConfig';

const GOOD = 'HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=400\nAPP=hello.wsgi\nDOMAIN=localhost\n';

describe('validateConfigFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-validate-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, data: string | Buffer) => {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
    return file;
  };

  test('a valid config has no problem; gunicorn form included', async () => {
    assert.equal(await validateConfigFile(write('ok.server3', GOOD), dir), undefined);
    const colon = write('colon.server3', GOOD.replace('hello.wsgi', 'hello.wsgi:app'));
    assert.equal(await validateConfigFile(colon, dir), undefined);
  });

  test('errors are listed with the path relative to the working directory', async () => {
    const file = write('site/bad.server3', GOOD.replace('PORT=8000', 'PORT=x'));
    const error = await validateConfigFile(file, dir);
    assert.equal(error?.kind, 'config-invalid');
    assert.equal(error?.file, file);
    assert.equal(error?.line, 2);
    assert.match(error!.message, /^the config has an error: site\/bad\.server3:2: error: PORT: 'x' is not/);
    assert.ok(!error!.message.includes(dir), error!.message);
  });

  test('bytes that are not UTF-8: line and column of the first one, as config.py says it', async () => {
    const file = write(
      'latin1.server3',
      Buffer.concat([Buffer.from('HOST=127.0.0.1\nDOMAIN=café'), Buffer.from([0xff])]),
    );
    const error = await validateConfigFile(file, dir);
    assert.equal(error?.line, 2);
    assert.match(
      error!.message,
      /latin1\.server3:2: error: not UTF-8 text: byte 0xff at column 12 of this line; save the file as UTF-8/,
    );
  });

  test('a missing file says so without a stack', async () => {
    const error = await validateConfigFile(path.join(dir, 'none.server3'), dir);
    assert.equal(error?.message, 'Cannot read the config file none.server3: it does not exist');
  });
});

describe('decodeConfig', () => {
  const at = (bytes: number[]) => {
    const result = decodeConfig(Uint8Array.from(bytes));
    assert.ok('problem' in result, 'decoded bytes that are not UTF-8');
    return [result.problem.line, result.problem.start, result.problem.end];
  };
  test('points at the first bad byte (the same places as the Python tests)', () => {
    assert.deepEqual(at([0xff]), [0, 0, 1]);
    assert.deepEqual(at([...Buffer.from('A=1\n'), 0xe2, 0x82]), [1, 0, 1]); // cut short at the end
    assert.deepEqual(at([...Buffer.from('A='), 0xe2, 0x82, 0x41, 0x0a]), [0, 2, 3]); // bad continuation
    assert.deepEqual(at([0xef, 0xbb, 0xbf, ...Buffer.from('A=é'), 0xc0, 0x80]), [0, 3, 4]); // BOM, overlong
    assert.deepEqual(at([...Buffer.from('A='), 0xff, 0x0a, ...Buffer.from('B=1')]), [0, 2, 3]); // before a newline
    assert.deepEqual(at([...Buffer.from('A=1\n\nB='), 0xff]), [2, 2, 3]); // lines counted, the empty one too
  });
  test('valid sequences of each length before the bad byte are stepped over whole; columns count characters', () => {
    // The smallest lead byte of each length: C2 (U+0080..), E0 (U+0800..), F0 (U+10000..); and one above each.
    for (const char of ['\u0080', '©', '\u0800', '€', '\u{10000}', '😀']) {
      assert.deepEqual(at([...Buffer.from(`A=${char}`), 0xff]), [0, 3, 4], `after ${char}`);
    }
  });
  test('the problem: an error with its code and what to do', () => {
    assert.deepEqual(decodeConfig(Uint8Array.from([0x41, 0xff])), {
      problem: {
        line: 0,
        start: 1,
        end: 2,
        severity: 'error',
        code: 'not-utf8',
        message:
          'not UTF-8 text: byte 0xff at column 2 of this line; save the file as UTF-8 (in VS Code: click the ' +
          'encoding in the status bar, Save with Encoding)',
      },
    });
  });
  test('only the whole BOM is dropped: EF xx BF is not one', () => {
    assert.deepEqual(at([0xef, 0x41, 0xbf, ...Buffer.from('A=1\n')]), [0, 0, 1]);
    assert.deepEqual(at([0xef, 0xbb, 0x41, ...Buffer.from('A=1\n')]), [0, 0, 1]);
  });
  test('drops a BOM and keeps the rest', () => {
    assert.deepEqual(decodeConfig(Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from('HOST=é\n')])), {
      text: 'HOST=é\n',
    });
  });
  test('a BOM is not counted in the column of a bad byte on the first line', () => {
    assert.deepEqual(at([0xef, 0xbb, 0xbf, ...Buffer.from('A='), 0xff]), [0, 2, 3]);
  });
});
