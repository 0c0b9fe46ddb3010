/**
 * What a Python module's source offers APP: its top-level WSGI callables (Flask's `app = Flask(...)`, Django's
 * `application = get_wsgi_application()`, a `def application(environ, start_response)`, ...) and where a name
 * is defined. Textual, on purpose: importing the user's module would run its code.
 */

export interface WsgiCallable {
  /** The name APP_CALLABLE (or APP's `:callable`) would hold. */
  name: string;
  /** 0-based line of its definition. */
  line: number;
  /** What it is, for the completion item: "Flask app", "Django WSGI application", ... */
  kind: string;
}

/** Callables made by calling these (the last dotted part of the callee), and what that makes them. */
const FACTORIES: Record<string, string> = {
  Flask: 'Flask app',
  get_wsgi_application: 'Django WSGI application',
  WSGIHandler: 'Django WSGI application',
  Bottle: 'Bottle app',
  default_app: 'Bottle app',
  make_wsgi_app: 'Pyramid app',
  create_app: 'app from a factory',
  make_app: 'app from a factory',
};
/** falcon.App() / falcon.API(): only with the module's name in front (a bare App() could be anything). */
const QUALIFIED_FACTORIES: Record<string, string> = {
  'falcon.App': 'Falcon app',
  'falcon.API': 'Falcon app',
};
/** ASGI apps are not WSGI callables: a conventional name made by these is not offered (Django's asgi.py). */
const ASGI_FACTORIES = new Set([
  'get_asgi_application',
  'FastAPI',
  'Starlette',
  'Quart',
  'Sanic',
  'Litestar',
]);
/** Names WSGI servers look for by convention: any other top-level definition of them counts. */
const CONVENTIONAL = ['application', 'app'];

const WSGI_FUNCTION =
  /^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\([ \t\r\n]*environ\b[^)]*\bstart_response\b/gm;
const CALL_ASSIGNMENT = /^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=[ \t]*([A-Za-z_][\w.]*)[ \t]*\(/gm;

function lineAt(source: string, index: number): number {
  let line = 0;
  for (let i = source.indexOf('\n'); i >= 0 && i < index; i = source.indexOf('\n', i + 1)) line++;
  return line;
}

/** The module's top-level WSGI callables, each name once (the most telling kind wins), in source order. */
export function wsgiCallables(source: string): WsgiCallable[] {
  const found = new Map<string, WsgiCallable>();
  const add = (name: string, index: number, kind: string) => {
    if (!found.has(name)) found.set(name, { name, line: lineAt(source, index), kind });
  };
  for (const m of source.matchAll(WSGI_FUNCTION)) add(m[1], m.index, 'WSGI function');
  const asgi = new Set<string>();
  for (const m of source.matchAll(CALL_ASSIGNMENT)) {
    const callee = m[2];
    const last = callee.split('.').pop()!;
    const kind = QUALIFIED_FACTORIES[callee] ?? FACTORIES[last];
    if (kind) add(m[1], m.index, kind);
    else if (ASGI_FACTORIES.has(last)) asgi.add(m[1]);
  }
  for (const name of CONVENTIONAL) {
    if (asgi.has(name)) continue;
    const at = definitionIndex(source, name);
    if (at >= 0) add(name, at, `defines ${name}`);
  }
  return [...found.values()].sort((a, b) => a.line - b.line);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Where `name` is defined at top level: a def, a class, an assignment (chained or annotated) or an import
 * (the same forms as defines_name() in config.py), or -1.
 */
export function definitionIndex(source: string, name: string): number {
  const n = escapeRegExp(name);
  const patterns = [
    `^(?:async\\s+)?def\\s+${n}\\b`,
    `^class\\s+${n}\\b`,
    `^(?:[A-Za-z_][A-Za-z0-9_]*\\s*=\\s*)*${n}\\s*(?::[^=\\n]*)?=(?!=)`,
    `^from\\s+\\S+\\s+import\\s+.*\\b${n}\\b`,
    `^import\\s+.*\\bas\\s+${n}\\b`,
  ];
  const hits = patterns.map((p) => new RegExp(p, 'm').exec(source)?.index ?? -1).filter((i) => i >= 0);
  return hits.length ? Math.min(...hits) : -1;
}

/** The 0-based line and column range of `name`'s top-level definition, or undefined. */
export function findDefinition(
  source: string,
  name: string,
): { line: number; start: number; end: number } | undefined {
  const at = definitionIndex(source, name);
  if (at < 0) return undefined;
  const line = lineAt(source, at);
  const lineStart = source.lastIndexOf('\n', at) + 1;
  const lineText = source.slice(
    lineStart,
    source.indexOf('\n', at) < 0 ? undefined : source.indexOf('\n', at),
  );
  // In `from app import app` the name is the imported one, the last; elsewhere the first.
  const hits = [...lineText.matchAll(new RegExp(`\\b${escapeRegExp(name)}\\b(?!\\.)`, 'g'))];
  const hit = /^(from|import)\s/.test(lineText) ? hits.at(-1) : hits[0];
  const column = hit?.index ?? 0;
  return { line, start: column, end: column + name.length };
}
