/**
 * Checks one value against its field's type in the schema. Mirrors check_value() in config.py: same rules,
 * same codes, same severities (the shared vectors hold both to it).
 */
import { suggestValue } from './keys';
import { exampleLine, FALSE_WORDS, type FieldSpec, TRUE_WORDS } from './schema';
import type { Severity } from './problem';

export interface ValueProblem {
  severity: Severity;
  code: string;
  message: string;
  /** The value the message proposes instead ("did you mean"), when it proposes one. */
  suggestion?: string;
}

const INTEGER_RE = /^[+-]?[0-9]+$/;
const NUMBER_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
export const MODULE_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
export const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const IPV4_RE = /^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$/;
const HEX_GROUP_RE = /^[0-9A-Fa-f]{1,4}$/;

export function isIpv4(text: string): boolean {
  if (!IPV4_RE.test(text)) return false;
  // No leading zeros: 010 means 8 to some resolvers and 10 to others.
  return text.split('.').every((p) => Number(p) <= 255 && (p === '0' || !p.startsWith('0')));
}

/** The eight 16-bit groups of an IPv6 address, or undefined. No zone (%eth0), no brackets. */
export function ipv6Groups(text: string): number[] | undefined {
  if (text.replace('::', '').includes('::')) return undefined; // at most one ::
  const at = text.indexOf('::');
  const double = at >= 0;
  const head = double ? text.slice(0, at) : text;
  const tail = double ? text.slice(at + 2) : '';
  const headGroups: number[] = [];
  const tailGroups: number[] = [];
  const sides: [string[], number[], boolean][] = [
    [head ? head.split(':') : [], headGroups, !double],
    [tail ? tail.split(':') : [], tailGroups, true],
  ];
  for (const [parts, out, mayEndWithIpv4] of sides) {
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (mayEndWithIpv4 && i === parts.length - 1 && isIpv4(part)) {
        const [a, b, c, d] = part.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else if (HEX_GROUP_RE.test(part)) out.push(parseInt(part, 16));
      else return undefined;
    }
  }
  const count = headGroups.length + tailGroups.length;
  if (double) return count > 7 ? undefined : [...headGroups, ...new Array(8 - count).fill(0), ...tailGroups];
  return count === 8 ? headGroups : undefined;
}

export function isHostname(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  const labels = text.split('.');
  // The last label is never all digits, so 999.1.1.1 is a bad address, not a hostname.
  return (
    labels.every((l) => l.length <= 63 && LABEL_RE.test(l)) && !/^[0-9]+$/.test(labels[labels.length - 1])
  );
}

export function isLoopback(host: string): boolean {
  if (isIpv4(host)) return host.startsWith('127.');
  const groups = ipv6Groups(host);
  if (groups) return groups.every((g, i) => g === (i === 7 ? 1 : 0));
  const lower = host.toLowerCase();
  return lower === 'localhost' || lower.endsWith('.localhost');
}

function num(x: number): string {
  return String(x);
}

function rangeText(spec: FieldSpec, kind: 'integer' | 'number'): string {
  const noun = kind === 'integer' ? 'an integer' : 'a number';
  const { min, max } = spec;
  if (kind === 'integer' && min === 1 && max === undefined) return 'a positive integer';
  if (max === undefined) return `${noun} of at least ${num(min as number)}`;
  if (min === undefined) return `${noun} of at most ${num(max)}`;
  return `${noun} from ${num(min)} to ${num(max)}`;
}

function inRange(spec: FieldSpec, x: number): boolean {
  return (spec.min === undefined || x >= spec.min) && (spec.max === undefined || x <= spec.max);
}

function networkWarning(name: string, host: string): ValueProblem {
  return {
    severity: 'warning',
    code: 'non-loopback-host',
    message:
      `${name}=${host} is not a loopback address: the server will be reachable from the network; ` +
      `use 127.0.0.1 to keep it on this machine`,
  };
}

const patterns = new Map<string, RegExp>();

/** The schema's `pattern` of a field (compiled once); a module field without one takes MODULE_RE. */
export function valuePattern(spec: FieldSpec): RegExp {
  let pattern = patterns.get(spec.name);
  if (!pattern) {
    pattern = spec.pattern ? new RegExp(spec.pattern) : MODULE_RE;
    patterns.set(spec.name, pattern);
  }
  return pattern;
}

/** What to write instead of a bad APP value: [the message's hint, the value it proposes or undefined]. */
function moduleHint(value: string, pattern: RegExp): [string, string | undefined] {
  const colon = value.indexOf(':');
  const module = colon < 0 ? value : value.slice(0, colon);
  const callable = colon < 0 ? '' : value.slice(colon + 1);
  if (value.endsWith('.py') || value.includes('/') || value.includes('\\')) {
    const dotted = value
      .replace(/\.py$/, '')
      .replace(/\\/g, '/')
      .replace(/^\/+|\/+$/g, '')
      .replace(/\//g, '.');
    return [
      `: write it with dots and without .py, e.g. APP=${dotted}`,
      pattern.test(dotted) ? dotted : undefined,
    ];
  }
  if (colon >= 0 && MODULE_RE.test(module)) {
    if (callable === '')
      return [`: write the callable's name after the colon (APP=${module}:app) or drop the colon`, module];
    if (callable.endsWith(')'))
      return [
        ': a factory call is not supported; make the app a module-level name ' +
          `(app = ${callable} in ${module}) and write APP=${module}:app`,
        undefined,
      ];
    return [': after the colon comes one Python name, the WSGI callable (APP=mypkg.wsgi:app)', undefined];
  }
  return [', e.g. APP=mypkg.wsgi (for mypkg/wsgi.py) or APP=mypkg.wsgi:app', undefined];
}

/** HOST:PORT or [IPv6]:PORT -> [host, port text], or undefined when it is not of that shape. */
export function splitAddress(value: string): [string, string] | undefined {
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close < 0 || value[close + 1] !== ':') return undefined;
    return [value.slice(1, close), value.slice(close + 2)];
  }
  const colon = value.lastIndexOf(':');
  if (colon < 0 || value.slice(0, colon).includes(':')) return undefined;
  return [value.slice(0, colon), value.slice(colon + 1)];
}

function checkAddress(spec: FieldSpec, value: string): ValueProblem | undefined {
  const name = spec.name;
  if (value === '') return undefined; // empty: the feature is off
  const parts = splitAddress(value);
  let ok = false;
  if (parts) {
    const [host, port] = parts;
    const hostOk = value.startsWith('[') ? ipv6Groups(host) !== undefined : isIpv4(host) || isHostname(host);
    const portOk = /^[0-9]+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535;
    ok = hostOk && portOk;
  }
  if (!ok || !parts) {
    return {
      severity: 'error',
      code: 'bad-address',
      message: `${name}: '${value}' is not HOST:PORT, e.g. ${exampleLine(spec)}`,
    };
  }
  return isLoopback(parts[0]) ? undefined : networkWarning(name, value);
}

/** The problem with a (non-empty) value for its field, or undefined when it is fine. */
export function checkValue(spec: FieldSpec, value: string): ValueProblem | undefined {
  const name = spec.name;
  const error = (code: string, message: string): ValueProblem => ({ severity: 'error', code, message });
  switch (spec.type) {
    case 'integer':
    case 'port': {
      const must = `${name} must be ${rangeText(spec, 'integer')}, e.g. ${exampleLine(spec)}`;
      if (!INTEGER_RE.test(value))
        return error('bad-integer', `${name}: '${value}' is not an integer; ${must}`);
      if (!inRange(spec, Number(value)))
        return error('out-of-range', `${name}: ${value} is out of range; ${must}`);
      return undefined;
    }
    case 'number': {
      const must = `${name} must be ${rangeText(spec, 'number')} (seconds), e.g. ${exampleLine(spec)}`;
      if (!NUMBER_RE.test(value)) return error('bad-number', `${name}: '${value}' is not a number; ${must}`);
      if (!inRange(spec, Number(value)))
        return error('out-of-range', `${name}: ${value} is out of range; ${must}`);
      return undefined;
    }
    case 'boolean':
      if ([...TRUE_WORDS, ...FALSE_WORDS].includes(value.toLowerCase())) return undefined;
      return error('bad-boolean', `${name}: '${value}' is not on/off, true/false, yes/no or 1/0`);
    case 'enum': {
      const values = spec.values ?? [];
      if (values.includes(value)) return undefined;
      const meant = suggestValue(value, values);
      if (meant !== undefined)
        return {
          ...error(
            'bad-enum',
            `${name}: '${value}' is not one of ${values.join(', ')}: did you mean ${meant}?`,
          ),
          suggestion: meant,
        };
      return error(
        'bad-enum',
        `${name}: '${value}' is not one of ${values.join(', ')}, e.g. ${exampleLine(spec)}`,
      );
    }
    case 'host': {
      if (value.startsWith('[') && value.endsWith(']') && ipv6Groups(value.slice(1, -1))) {
        const bare = value.slice(1, -1);
        return {
          ...error('bad-host', `${name}: write the IPv6 address without brackets: ${name}=${bare}`),
          suggestion: bare,
        };
      }
      if (!(isIpv4(value) || ipv6Groups(value) || isHostname(value))) {
        return error(
          'bad-host',
          `${name}: '${value}' is not an IPv4/IPv6 address or a hostname, e.g. ${exampleLine(spec)}`,
        );
      }
      return isLoopback(value) ? undefined : networkWarning(name, value);
    }
    case 'hostname':
      if (isHostname(value) || isIpv4(value)) return undefined;
      return error('bad-hostname', `${name}: '${value}' is not a hostname, e.g. ${exampleLine(spec)}`);
    case 'module': {
      const pattern = valuePattern(spec);
      if (pattern.test(value)) return undefined;
      const [hint, suggestion] = moduleHint(value, pattern);
      return { ...error('bad-module', `${name}: '${value}' is not a dotted module path${hint}`), suggestion };
    }
    case 'identifier':
      if (IDENTIFIER_RE.test(value)) return undefined;
      return error('bad-identifier', `${name}: '${value}' is not a Python name, e.g. ${exampleLine(spec)}`);
    case 'address':
      return checkAddress(spec, value);
  }
}
