/**
 * The config language's building blocks at their edges (values.ts, keys.ts, parse.ts, fileChecks.ts,
 * schema.ts): the largest and smallest accepted value of each rule and the first one refused, every message
 * form. The shared vectors and the parity test hold the validator to config.py; these pin the parts.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  definesName,
  moduleFile,
  readSomaxconn,
  readSomaxconnFrom,
} from '../../server-runtime/src/config/fileChecks';
import { editDistance, suggestKey } from '../../server-runtime/src/config/keys';
import { commentStart, parseConfig, splitLines } from '../../server-runtime/src/config/parse';
import { defaultText, FIELD_BY_NAME, type FieldSpec } from '../../server-runtime/src/config/schema';
import { validateConfigText } from '../../server-runtime/src/config/validate';
import {
  checkValue,
  ipv6Groups,
  isHostname,
  isIpv4,
  isLoopback,
  splitAddress,
} from '../../server-runtime/src/config/values';

const field = (name: string) => FIELD_BY_NAME.get(name)!;
const message = (name: string, value: string) => checkValue(field(name), value)?.message ?? '(no problem)';
const code = (name: string, value: string) => checkValue(field(name), value)?.code;

describe('addresses and names', () => {
  test('IPv4: four numbers of 0-255, no leading zeros, nothing around them', () => {
    for (const ok of ['0.0.0.0', '255.255.255.255', '127.0.0.1', '10.0.0.10'])
      assert.equal(isIpv4(ok), true, ok);
    for (const bad of [
      '256.0.0.1',
      '1.2.3.256',
      '01.2.3.4',
      '1.2.3',
      'x1.2.3.4',
      '1.2.3.4x',
      '1.2.3.4.5',
      '1..2.3',
    ])
      assert.equal(isIpv4(bad), false, bad);
  });

  test('IPv6: groups, one ::, an IPv4 tail only last', () => {
    assert.deepEqual(ipv6Groups('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ipv6Groups('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(ipv6Groups('fe80::'), [0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ipv6Groups('1:2:3:4:5:6:7:8'), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(ipv6Groups('1:2:3:4:5:6:7::'), [1, 2, 3, 4, 5, 6, 7, 0]); // seven groups and ::
    assert.deepEqual(ipv6Groups('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    assert.deepEqual(ipv6Groups('1:2:3:4:5:6:1.2.3.4'), [1, 2, 3, 4, 5, 6, 0x0102, 0x0304]);
    assert.deepEqual(ipv6Groups('ABCD::'), [0xabcd, 0, 0, 0, 0, 0, 0, 0]);
    for (const bad of [
      '1:2:3:4:5:6:7:8::', // eight groups leave nothing for ::
      '1:2:3:4:5:6:7', // seven groups without ::
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '1:::2',
      '12345::',
      '::g',
      '1.2.3.4::', // an IPv4 part before ::
      '::1.2.3.4:5', // an IPv4 part that is not last
      '1:2:3:4:5:1.2.3.4:6:7',
      'fe80::1%eth0',
      '[::1]',
      '',
    ])
      assert.equal(ipv6Groups(bad), undefined, bad);
  });

  test('hostnames: labels of 1-63, 253 in all, not ending in an all-digit label', () => {
    assert.equal(isHostname('a'), true);
    assert.equal(isHostname('host.a9'), true);
    assert.equal(isHostname('x-1.example'), true);
    assert.equal(isHostname('a'.repeat(63)), true);
    assert.equal(isHostname('a'.repeat(64)), false);
    const long = (n: number) =>
      Array.from({ length: Math.ceil(n / 2) }, () => 'a')
        .join('.')
        .slice(0, n);
    assert.equal(long(253).length, 253);
    assert.equal(isHostname(long(253)), true);
    assert.equal(isHostname(long(253) + 'a'), false);
    for (const bad of ['', '-a', 'a-', 'a..b', 'a_b', '1.2.3.999', 'host.9', 'a.'])
      assert.equal(isHostname(bad), false, bad);
  });

  test('loopback: 127/8, ::1 in any spelling, localhost and *.localhost', () => {
    for (const yes of [
      '127.0.0.1',
      '127.255.1.2',
      '::1',
      '0:0:0:0:0:0:0:1',
      'localhost',
      'LocalHost',
      'api.localhost',
    ])
      assert.equal(isLoopback(yes), true, yes);
    for (const no of [
      '128.0.0.1',
      '0.0.0.0',
      '::',
      '::2',
      '1::1',
      'localhost.example',
      'mylocalhost',
      'example.com',
    ])
      assert.equal(isLoopback(no), false, no);
  });

  test('HOST:PORT and [IPv6]:PORT split at the right colon', () => {
    assert.deepEqual(splitAddress('127.0.0.1:9100'), ['127.0.0.1', '9100']);
    assert.deepEqual(splitAddress('[::1]:80'), ['::1', '80']);
    assert.deepEqual(splitAddress(':80'), ['', '80']);
    assert.deepEqual(splitAddress('h:'), ['h', '']);
    for (const bad of ['[::1]', '[::1', '[::1]80', 'a:b:80', 'noport', '::1:80'])
      assert.equal(splitAddress(bad), undefined, bad);
  });
});

describe('value checks', () => {
  test('integer ranges: both ends accepted, one past refused, every wording', () => {
    assert.equal(code('PORT', '1'), undefined);
    assert.equal(code('PORT', '65535'), undefined);
    assert.equal(code('PORT', '+80'), undefined);
    assert.equal(
      message('PORT', '0'),
      'PORT: 0 is out of range; PORT must be an integer from 1 to 65535, e.g. PORT=8000',
    );
    assert.equal(code('PORT', '65536'), 'out-of-range');
    assert.equal(
      message('PORT', '80a'),
      "PORT: '80a' is not an integer; PORT must be an integer from 1 to 65535, e.g. PORT=8000",
    );
    assert.equal(code('PORT', 'x80'), 'bad-integer');
    assert.equal(
      message('SOCKET_BACKLOG', '0'),
      'SOCKET_BACKLOG: 0 is out of range; SOCKET_BACKLOG must be an integer from 1 to 2147483647, e.g. SOCKET_BACKLOG=400',
    );
    // Every integer field has a max (below 2**53, so floats compare them exactly): the open-ended wordings
    // are for a field without one.
    const positive = { ...field('SOCKET_BACKLOG'), max: undefined } as FieldSpec;
    assert.equal(
      checkValue(positive, '0')?.message,
      'SOCKET_BACKLOG: 0 is out of range; SOCKET_BACKLOG must be a positive integer, e.g. SOCKET_BACKLOG=400',
    );
    assert.equal(
      message('MAX_BODY_SIZE', '-1'),
      'MAX_BODY_SIZE: -1 is out of range; MAX_BODY_SIZE must be an integer from 0 to 9007199254740991, e.g. MAX_BODY_SIZE=104857600',
    );
    assert.equal(code('MAX_BODY_SIZE', '9007199254740992'), 'out-of-range');
    assert.equal(code('SOCKET_BACKLOG', '9'.repeat(5000)), 'out-of-range');
    assert.equal(code('MAX_BODY_SIZE', '0'), undefined);
    const atMost = { ...field('PORT'), min: undefined, max: 5 } as FieldSpec;
    assert.equal(checkValue(atMost, '-100'), undefined);
    assert.equal(
      checkValue(atMost, '6')?.message,
      'PORT: 6 is out of range; PORT must be an integer of at most 5, e.g. PORT=8000',
    );
    const atLeastTwo = { ...field('PORT'), min: 2, max: undefined } as FieldSpec;
    assert.match(checkValue(atLeastTwo, '1')!.message, /must be an integer of at least 2,/);
  });

  test('numbers: decimals and exponents, ranges in seconds', () => {
    for (const ok of ['0.1', '3600', '1e3', '1E+3', '2.5e-1', '.5', '.55', '5.', '+1', '36e2', '0.25e+01'])
      assert.equal(code('REQUEST_TIMEOUT', ok), undefined, ok);
    assert.equal(code('REQUEST_TIMEOUT', '1e4'), 'out-of-range');
    assert.equal(code('REQUEST_TIMEOUT', '1e10'), 'out-of-range', 'a number, only too big');
    assert.equal(code('REQUEST_TIMEOUT', '0.09'), 'out-of-range');
    for (const bad of ['1e', '1e+', 'e3', '1.2.3', '.', '1,5', 'x1', '1x', '1ex'])
      assert.equal(code('REQUEST_TIMEOUT', bad), 'bad-number', bad);
    assert.match(message('REQUEST_TIMEOUT', '0'), /must be a number from 0.1 to 3600 \(seconds\)/);
    const atLeastOne = { ...field('REQUEST_TIMEOUT'), min: 1, max: undefined } as FieldSpec;
    assert.match(checkValue(atLeastOne, '0')!.message, /must be a number of at least 1 \(seconds\)/);
  });

  test('booleans: each accepted word in any case; enums: only their values', () => {
    for (const word of ['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off', 'TRUE', 'Off', 'yEs'])
      assert.equal(code('METRICS', word), undefined, word);
    assert.equal(message('METRICS', 'maybe'), "METRICS: 'maybe' is not on/off, true/false, yes/no or 1/0");
    assert.equal(code('METRICS', ''), 'bad-boolean');
    assert.equal(code('ACCESS_LOG', 'combined'), undefined);
    // A value in the wrong case is a "did you mean" with its suggestion (its quick fix writes it);
    // a value near none of them gets the example.
    assert.equal(
      message('ACCESS_LOG', 'Combined'),
      "ACCESS_LOG: 'Combined' is not one of off, common, combined: did you mean combined?",
    );
    assert.equal(checkValue(field('ACCESS_LOG'), 'Combined')?.suggestion, 'combined');
    assert.equal(
      message('ACCESS_LOG', 'zzzzzz'),
      "ACCESS_LOG: 'zzzzzz' is not one of off, common, combined, e.g. ACCESS_LOG=combined",
    );
    assert.equal(checkValue(field('ACCESS_LOG'), 'zzzzzz')?.suggestion, undefined);
  });

  test('hosts: a bracketed IPv6 is explained, anything else not an address or name is refused', () => {
    assert.equal(message('HOST', '[::1]'), 'HOST: write the IPv6 address without brackets: HOST=::1');
    const generic = (v: string) =>
      `HOST: '${v}' is not an IPv4/IPv6 address or a hostname, e.g. HOST=127.0.0.1`;
    for (const v of ['x::1]', '[::1x', '[x]', 'a_b']) assert.equal(message('HOST', v), generic(v), v);
    assert.equal(code('HOST', '::1'), undefined);
    assert.equal(code('HOST', 'localhost'), undefined);
    assert.equal(
      message('HOST', '0.0.0.0'),
      'HOST=0.0.0.0 is not a loopback address: the server will be reachable from the network; use 127.0.0.1 to keep it on this machine',
    );
    assert.equal(checkValue(field('HOST'), '::')?.severity, 'warning');
    assert.equal(code('DOMAIN', '10.0.0.1'), undefined);
    assert.equal(message('DOMAIN', 'a_b'), "DOMAIN: 'a_b' is not a hostname, e.g. DOMAIN=localhost");
  });

  test('APP: a dotted module path; a file path gets the dotted spelling back', () => {
    assert.equal(code('APP', 'pkg.wsgi'), undefined);
    const hint = (v: string) => message('APP', v)!.split(' is not a dotted module path')[1];
    assert.equal(hint('pkg/wsgi.py'), ': write it with dots and without .py, e.g. APP=pkg.wsgi');
    assert.equal(code('APP', 'wsgi.py'), undefined, 'a module py in a package wsgi');
    assert.equal(hint('my-app.py'), ': write it with dots and without .py, e.g. APP=my-app');
    assert.equal(hint('pkg\\wsgi.py'), ': write it with dots and without .py, e.g. APP=pkg.wsgi');
    assert.equal(hint('//pkg/wsgi//'), ': write it with dots and without .py, e.g. APP=pkg.wsgi');
    assert.equal(hint('mod.pyx/a.py'), ': write it with dots and without .py, e.g. APP=mod.pyx.a');
    // gunicorn's module:callable is accepted, so the example shows it too.
    assert.equal(hint('my-app'), ', e.g. APP=mypkg.wsgi (for mypkg/wsgi.py) or APP=mypkg.wsgi:app');
    assert.equal(
      message('APP', '1mod'),
      "APP: '1mod' is not a dotted module path, e.g. APP=mypkg.wsgi (for mypkg/wsgi.py) or APP=mypkg.wsgi:app",
    );
    assert.equal(
      message('APP_CALLABLE', 'a.b'),
      "APP_CALLABLE: 'a.b' is not a Python name, e.g. APP_CALLABLE=app",
    );
  });

  test('STATS: empty is off; HOST:PORT with a loopback host; ports 1-65535', () => {
    const stats = field('STATS');
    assert.equal(checkValue(stats, ''), undefined);
    for (const ok of ['127.0.0.1:9100', 'localhost:1', '[::1]:65535'])
      assert.equal(checkValue(stats, ok), undefined, ok);
    const bad = (v: string) => `STATS: '${v}' is not HOST:PORT, e.g. STATS=127.0.0.1:9100`;
    for (const v of [
      'localhost:0',
      'localhost:65536',
      'localhost:+80',
      'localhost:80x',
      'localhost:',
      '[x]:80',
      'a_b:80',
      '9100',
      '[::1]',
    ])
      assert.equal(checkValue(stats, v)?.message, bad(v), v);
    assert.equal(checkValue(stats, '0.0.0.0:9100')?.code, 'non-loopback-host');
    assert.equal(checkValue(stats, '[::]:9100')?.code, 'non-loopback-host');
  });

  test('defaults as written in a file: booleans as on/off', () => {
    assert.equal(defaultText(field('METRICS')), 'on');
    assert.equal(defaultText({ ...field('METRICS'), default: false }), 'off');
    assert.equal(defaultText(field('PORT')), '8000');
    assert.equal(defaultText(field('STATS')), '');
  });
});

describe('keys', () => {
  test('edit distance counts a swap of neighbours as one edit', () => {
    const cases: [string, string, number][] = [
      ['', '', 0],
      ['', 'AB', 2],
      ['AB', '', 2],
      ['A', 'A', 0],
      ['A', 'B', 1],
      ['AB', 'BA', 1],
      ['ABC', 'ACB', 1],
      ['HSOT', 'HOST', 1],
      ['AB', 'CA', 2],
      ['AB', 'BC', 2],
      ['CA', 'ABC', 3],
      ['ABCD', 'BADC', 2],
      ['KITTEN', 'SITTING', 3],
    ];
    for (const [a, b, d] of cases) assert.equal(editDistance(a, b), d, `${a} ~ ${b}`);
  });

  test('suggestions: one edit for short keys, two for long ones, the first best, then _ prefixes/suffixes', () => {
    const expected: [string, string | undefined][] = [
      ['host', 'HOST'],
      ['HOS', 'HOST'],
      ['HORT', 'HOST'], // one edit from HOST and from PORT: the first in schema order
      ['HXXT', undefined], // two edits from HOST: too far for a four-letter key
      ['APP_THRAEDS', 'APP_THREADS'],
      ['APP_THRDS', 'APP_THREADS'],
      ['APP_THREA', 'APP_THREADS'],
      ['APPS', 'APP'],
      ['KEEPALIVE', 'KEEPALIVE_TIMEOUT'],
      ['BACKLOG', 'SOCKET_BACKLOG'],
      ['KEEPALIV', undefined],
      ['EADER_SIZE', undefined],
      ['ZZZZZZ', undefined],
    ];
    for (const [key, suggestion] of expected) {
      assert.equal(suggestKey(key), suggestion, key);
      assert.equal(suggestKey(key), suggestion, `${key} (cached)`);
    }
  });
});

describe('parsing', () => {
  test('entries with exact columns, blanks around = and before a comment', () => {
    const [entry] = parseConfig('  PORT =  80  # c').entries;
    assert.deepEqual(entry, {
      kind: 'entry',
      line: 0,
      indent: 2,
      key: 'PORT',
      keyStart: 2,
      keyEnd: 6,
      equals: 7,
      value: '80',
      valueStart: 10,
      valueEnd: 12,
      commentStart: 14,
    });
    const [empty] = parseConfig('PORT=  # c').entries;
    assert.deepEqual([empty.value, empty.valueStart, empty.valueEnd, empty.commentStart], ['', 5, 5, 7]);
    assert.deepEqual(parseConfig('A=b#c').entries[0].value, 'b#c');
    assert.deepEqual(
      parseConfig('\n# c\n  \t\nx y\nK=v').lines.map((l) => l.kind),
      ['blank', 'comment', 'blank', 'bad', 'entry'],
    );
    assert.deepEqual(parseConfig('  # c').lines[0], { kind: 'comment', line: 0, start: 2 });
    assert.deepEqual(parseConfig(' x y ').lines[0], { kind: 'bad', line: 0, start: 1, end: 4 });
    assert.deepEqual(parseConfig('\n').lines[0], { kind: 'blank', line: 0 });
  });

  test('not KEY=VALUE: what is wrong, and the fix when the = is simply missing', () => {
    const msg = (line: string) => parseConfig(line).problems[0].message;
    assert.equal(
      msg('PORT  80'),
      "expected KEY=VALUE, got 'PORT  80' (did you mean PORT=80?): write the key, then =, then the value",
    );
    assert.equal(
      msg('PORT 80 # a=b'),
      "expected KEY=VALUE, got 'PORT 80' (did you mean PORT=80?): write the key, then =, then the value",
    );
    assert.equal(msg('PORT'), "expected KEY=VALUE, got 'PORT': write the key, then =, then the value");
    assert.equal(msg(' = 80'), "expected KEY=VALUE, got '= 80': the key before = is missing");
    assert.equal(
      msg('1X=2'),
      "expected KEY=VALUE, got '1X=2': a key is letters, digits and _ (not starting with a digit)",
    );
  });

  test('lines: a BOM and CR are dropped; comments start after a blank', () => {
    assert.deepEqual(splitLines('\ufeffA=1\r\nB=2\r\n'), ['A=1', 'B=2', '']);
    assert.deepEqual(splitLines('A\rB'), ['A\rB']);
    assert.equal(commentStart('K=v # c', 0), 4);
    assert.equal(commentStart('K=v\t# c', 0), 4);
    assert.equal(commentStart('K=v#c', 0), -1);
    assert.equal(commentStart('# c', 0), -1, 'the first character is never a trailing comment');
  });
});

describe('file-system checks', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'server3-values-'));
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  const site = path.join(root, 'site');
  fs.mkdirSync(site);
  const text = (app: string, extra = '') =>
    `HOST=127.0.0.1\nPORT=8000\nSOCKET_BACKLOG=64\nAPP=${app}\nDOMAIN=localhost\n${extra}`;
  const problems = (t: string, options: Parameters<typeof validateConfigText>[1]) =>
    validateConfigText(t, { somaxconn: null, ...options }).map((p) => `${p.code}: ${p.message}`);

  test('module not found: where it looked, each folder once', () => {
    assert.deepEqual(problems(text('my.app'), { configDir: site, workspaceDir: root }), [
      `module-not-found: APP: module my.app not found in ${site} or ${root} (looked for my/app.py); the server imports it from the folder it runs in`,
    ]);
    assert.deepEqual(problems(text('my.app'), { configDir: site, workspaceDir: site }), [
      `module-not-found: APP: module my.app not found in ${site} (looked for my/app.py); the server imports it from the folder it runs in`,
    ]);
    // No folder to look in, or an APP that is not a module path: no file-system verdict.
    assert.deepEqual(problems(text('my.app'), { fileSystem: true }), []);
    assert.deepEqual(
      problems(text('my/app.py'), { configDir: site }).map((p) => p.split(':')[0]),
      ['bad-module'],
    );
  });

  test('no application: names the file and the callable looked for', () => {
    fs.writeFileSync(path.join(site, 'noapp.py'), 'import os\napp = 1\n');
    assert.deepEqual(problems(text('noapp'), { configDir: site }), [
      'no-application: APP: noapp.py does not define `application` at top level; define the WSGI callable there or set APP_CALLABLE',
    ]);
    assert.deepEqual(problems(text('noapp', 'APP_CALLABLE=app\n'), { configDir: site }), []);
    // An APP_CALLABLE that is not a name is reported as such, and application is looked for instead.
    assert.deepEqual(
      problems(text('noapp', 'APP_CALLABLE=1x\n'), { configDir: site }).map((p) => p.split(':')[0]),
      ['no-application', 'bad-identifier'],
    );
    fs.mkdirSync(path.join(site, 'pkg'));
    fs.writeFileSync(path.join(site, 'pkg', '__init__.py'), 'application = 1\n');
    assert.equal(moduleFile(site, 'pkg'), path.join(site, 'pkg', '__init__.py'));
    assert.equal(moduleFile(site, 'noapp'), path.join(site, 'noapp.py'));
    assert.equal(moduleFile(site, 'missing'), undefined);
    assert.deepEqual(problems(text('pkg'), { configDir: site }), []);
  });

  test('definesName: only top-level definitions of exactly that name', () => {
    assert.equal(definesName('import os\napplication = 1\n', 'application'), true, 'not on the first line');
    assert.equal(definesName('xy = 1\n', 'x.y'), false, 'a dot in the name is not "any character"');
    assert.equal(definesName('x.y = 1\n', 'x.y'), true);
    assert.equal(definesName('applications = 1\n', 'application'), false);
    assert.equal(definesName('application == 1\n', 'application'), false);
  });

  test('SOCKET_BACKLOG above somaxconn: strictly above, signed values too, the real value by default', () => {
    const backlog = (v: string, somaxconn?: number | null) =>
      validateConfigText(text('x').replace('SOCKET_BACKLOG=64', `SOCKET_BACKLOG=${v}`), {
        configDir: site,
        workspaceDir: site,
        somaxconn,
      }).filter((p) => p.code === 'above-somaxconn');
    assert.deepEqual(backlog('4096', 4096), []);
    const above = backlog('4097', 4096);
    assert.equal(above.length, 1);
    assert.equal(
      above[0].message,
      "SOCKET_BACKLOG=4097 is above the kernel's net.core.somaxconn (4096), which caps it; raise somaxconn or use 4096",
    );
    assert.deepEqual(
      [above[0].line, above[0].start, above[0].end, above[0].severity],
      [2, 15, 19, 'warning'],
    );
    assert.equal(backlog('+5000', 4096).length, 1);
    assert.deepEqual(backlog('99999999', null), []);
    const real = readSomaxconn();
    if (real)
      assert.equal(backlog(String(real + 1)).length, 1, 'the machine value is used when none is given');
    // Without a config folder nothing is read from the machine.
    assert.deepEqual(
      validateConfigText(text('x').replace('SOCKET_BACKLOG=64', 'SOCKET_BACKLOG=99999999'), {}).map(
        (p) => p.code,
      ),
      [],
    );
  });

  test('somaxconn files: a positive integer or null', () => {
    const file = path.join(root, 'somaxconn');
    const read = (content: string) => {
      fs.writeFileSync(file, content);
      return readSomaxconnFrom(file);
    };
    assert.equal(read(' 4096\n'), 4096);
    assert.equal(read('1\n'), 1);
    for (const bad of ['0\n', '-5\n', 'x\n', '']) assert.equal(read(bad), null, JSON.stringify(bad));
    assert.equal(readSomaxconnFrom(path.join(root, 'missing')), null);
    const real = readSomaxconn();
    assert.equal(real, readSomaxconnFrom('/proc/sys/net/core/somaxconn'));
    assert.equal(readSomaxconn(), real, 'read once');
  });
});
