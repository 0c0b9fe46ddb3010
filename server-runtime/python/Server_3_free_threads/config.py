"""Reads and validates the server's config file against config_schema.json.

The schema is the one source of truth shared with the VS Code language server
(server-runtime/src/config/); the shared test vectors in test/vectors/config/ are run by both sides so they
report the same problems (code, severity, line, columns) for the same text. The rules of the language are
written down once, in docs/config.md ("Syntax"); keep this file and server-runtime/src/config/parse.ts +
validate.ts in step with it.

Interface used by the rest of the runtime:
    parse_config_text(text, base_dir=None) -> (Settings, list[Problem])
        base_dir=None runs only the checks that need nothing but the text (what the shared vectors cover);
        with a base_dir it also checks the file system: APP's module exists and defines its callable,
        SOCKET_BACKLOG is not above net.core.somaxconn (all of those are warnings).
    load_config(path) -> Settings   # raises ConfigError(problems, path) when there is any error;
                                    # the warnings are kept in settings.warnings
"""

from __future__ import annotations

import json
import os
import re

# No dataclasses, pathlib or typing at import time: they stay in memory for the server's whole life (about
# 2 MB of idle RSS with what they pull in: inspect, ast, urllib.parse, ...); see DESIGN.md, "Idle memory".
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config_schema.json")
with open(SCHEMA_PATH, encoding="utf-8") as _schema_file:
    SCHEMA: dict[str, Any] = json.load(_schema_file)
FIELDS: dict[str, dict[str, Any]] = {f["name"]: f for f in SCHEMA["fields"]}
SOMAXCONN_PATH = "/proc/sys/net/core/somaxconn"

# Only spaces and tabs count as blanks (not str.strip()'s Unicode spaces): the TypeScript side must agree.
BLANKS = " \t"
KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
INTEGER_RE = re.compile(r"[+-]?[0-9]+\Z")
NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
MODULE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\Z")
IPV4_RE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}\Z")
HEX_GROUP_RE = re.compile(r"[0-9A-Fa-f]{1,4}\Z")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


# ----------------------------------------------------------------------------------------------------------
# Results


class _Record:
    """What @dataclass(frozen=True) gives a class whose fields are its __slots__: ==, hash, repr, and no
    assignment after __init__ (which sets the fields with object.__setattr__)."""

    __slots__ = ()

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{self.__class__.__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")


class Problem(_Record):
    """One problem in a config file. line is 1-based; columns are 0-based, end exclusive (as in LSP).

    code is part of the contract with the language server and the shared vectors (see docs/config.md).
    suggestion is the text the message's "did you mean" proposes for the span start..end (a misspelt
    key's known key, `combined` for `Combined`, `PORT=8000` for `PORT 8000`); the editor's quick fix
    writes it there.
    """

    __slots__ = ("line", "start", "end", "severity", "code", "message", "suggestion")
    line: int
    start: int
    end: int
    severity: str  # "error" | "warning"
    code: str
    message: str
    suggestion: str | None

    def __init__(
        self,
        line: int,
        start: int,
        end: int,
        severity: str,
        code: str,
        message: str,
        suggestion: str | None = None,
    ) -> None:
        values = (line, start, end, severity, code, message, suggestion)
        for name, item in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, name, item)

    def format(self, path: str | None = None) -> str:
        where = f"{path}:{self.line}" if path else f"line {self.line}"
        return f"{where}: {self.severity}: {self.message}"


class ConfigError(Exception):
    """The config has errors; str() is one `path:LINE: error: message` line per problem."""

    def __init__(self, problems: list[Problem], path: str | None = None):
        self.problems = problems
        self.path = path
        super().__init__("\n".join(p.format(path) for p in problems))


class Settings:
    """Typed values of every schema field (defaults filled in), keyed by the schema name in lower case:
    settings.port -> int, settings.metrics -> bool, settings.keepalive_timeout -> float, ..."""

    values: dict[str, Any]
    source: str | None
    warnings: list[Problem]

    def __init__(
        self,
        values: dict[str, Any] | None = None,
        source: str | None = None,
        warnings: list[Problem] | None = None,
    ) -> None:
        self.values = {} if values is None else values
        self.source = source
        self.warnings = [] if warnings is None else warnings

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            mine = (self.values, self.source, self.warnings)
            return mine == (other.values, other.source, other.warnings)  # type: ignore[attr-defined]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, as with @dataclass

    def __repr__(self) -> str:
        fields = f"values={self.values!r}, source={self.source!r}, warnings={self.warnings!r}"
        return f"{self.__class__.__qualname__}({fields})"

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)


# ----------------------------------------------------------------------------------------------------------
# Parse: the text into entries (one per KEY=VALUE line) and syntax problems


class Entry(_Record):
    """One KEY=VALUE line. line is 1-based; key_start/key_end/value_start/value_end are 0-based columns."""

    __slots__ = ("line", "key", "key_start", "key_end", "equals", "value", "value_start", "value_end")
    line: int
    key: str
    key_start: int
    key_end: int
    equals: int
    value: str
    value_start: int
    value_end: int

    def __init__(
        self,
        line: int,
        key: str,
        key_start: int,
        key_end: int,
        equals: int,
        value: str,
        value_start: int,
        value_end: int,
    ) -> None:
        values = (line, key, key_start, key_end, equals, value, value_start, value_end)
        for name, item in zip(self.__slots__, values, strict=True):
            object.__setattr__(self, name, item)


def split_lines(text: str) -> list[str]:
    """Lines as the editor sees them: split on \\n only, a trailing \\r dropped, a leading BOM dropped."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _skip_blanks(line: str, i: int, end: int) -> int:
    while i < end and line[i] in BLANKS:
        i += 1
    return i


def _trim_end(line: str, start: int, end: int) -> int:
    while end > start and line[end - 1] in BLANKS:
        end -= 1
    return end


def content_end(line: str, start: int) -> int:
    """End of a line's content: a `#` that follows a blank starts a trailing comment (values never hold
    blanks, so `PORT=8000  # dev` is PORT=8000); a `#` inside a word (`APP=a#b`) is part of it."""
    end = len(line)
    for i in range(start + 1, len(line)):
        if line[i] == "#" and line[i - 1] in BLANKS:
            end = i
            break
    return _trim_end(line, start, end)


def parse_lines(text: str) -> tuple[list[Entry], list[Problem]]:
    entries: list[Entry] = []
    problems: list[Problem] = []
    for lineno, line in enumerate(split_lines(text), start=1):
        start = _skip_blanks(line, 0, len(line))
        if start == len(line) or line[start] == "#":
            continue  # blank line or full-line comment
        end = content_end(line, start)
        equals = line.find("=", start, end)
        key_end = _trim_end(line, start, equals) if equals >= 0 else start
        key = line[start:key_end]
        if equals < 0 or not KEY_RE.match(key):
            problems.append(_not_key_value(lineno, line, start, end, equals))
            continue
        value_start = _skip_blanks(line, equals + 1, end)
        entries.append(Entry(lineno, key, start, key_end, equals, line[value_start:end], value_start, end))
    return entries, problems


# `PORT 8000`, `PORT: 8000`, `PORT:8000`: a key and one value with a blank or a colon between them.
NEAR_ENTRY_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:[ \t]*:[ \t]*|[ \t]+)([^ \t]+)\Z")


def _not_key_value(lineno: int, line: str, start: int, end: int, equals: int) -> Problem:
    text = line[start:end]
    suggestion = None
    if equals < 0:
        near = NEAR_ENTRY_RE.match(text)
        # Only a line that reads as one key and one value gets a guess: `what is this` gets none.
        suggestion = f"{near.group(1)}={near.group(2)}" if near else None
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        message = f"expected KEY=VALUE, got '{text}'{hint}: write the key, then =, then the value"
    elif equals == start:
        message = f"expected KEY=VALUE, got '{text}': the key before = is missing"
    else:
        message = (
            f"expected KEY=VALUE, got '{text}': a key is letters, digits and _ (not starting with a digit)"
        )
    return Problem(lineno, start, end, "error", "not-key-value", message, suggestion)


# ----------------------------------------------------------------------------------------------------------
# Value checks, one per schema type. Each returns (code, message) for a bad value or None.


def is_ipv4(text: str) -> bool:
    if not IPV4_RE.match(text):
        return False
    # No leading zeros: 010 means 8 to some resolvers and 10 to others.
    return all(int(p) <= 255 and (p == "0" or not p.startswith("0")) for p in text.split("."))


def ipv6_groups(text: str) -> list[int] | None:
    """The eight 16-bit groups of an IPv6 address, or None. No zone (%eth0), no brackets."""
    if "::" in text.replace("::", "", 1):
        return None
    head, double, tail = text.partition("::")
    parts_head = head.split(":") if head else []
    parts_tail = tail.split(":") if tail else []
    groups: list[int] = []
    tail_groups: list[int] = []
    for parts, out in ((parts_head, groups), (parts_tail, tail_groups)):
        for i, part in enumerate(parts):
            last = out is tail_groups or not double
            if last and i == len(parts) - 1 and is_ipv4(part):
                a, b, c, d = (int(x) for x in part.split("."))
                out += [a << 8 | b, c << 8 | d]
            elif HEX_GROUP_RE.match(part):
                out.append(int(part, 16))
            else:
                return None
    count = len(groups) + len(tail_groups)
    if double:
        if count > 7:
            return None
        return groups + [0] * (8 - count) + tail_groups
    return groups if count == 8 else None


def is_hostname(text: str) -> bool:
    if not 0 < len(text) <= 253:
        return False
    labels = text.split(".")
    # The last label is never all digits, so 999.1.1.1 is a bad address, not a hostname.
    return all(len(lab) <= 63 and LABEL_RE.match(lab) for lab in labels) and not labels[-1].isdigit()


def is_loopback(host: str) -> bool:
    if is_ipv4(host):
        return host.startswith("127.")
    groups = ipv6_groups(host)
    if groups is not None:
        return groups == [0] * 7 + [1]
    lower = host.lower()
    return lower == "localhost" or lower.endswith(".localhost")


def _example(spec: dict[str, Any]) -> str:
    return f"{spec['name']}={spec['example']}"


def _range_text(spec: dict[str, Any], kind: str) -> str:
    lo, hi = spec.get("min"), spec.get("max")
    noun = "an integer" if kind == "integer" else "a number"
    if kind == "integer" and lo == 1 and hi is None:
        return "a positive integer"
    if hi is None:
        return f"{noun} of at least {_num(lo)}"
    if lo is None:
        return f"{noun} of at most {_num(hi)}"
    return f"{noun} from {_num(lo)} to {_num(hi)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _in_range(spec: dict[str, Any], x: float) -> bool:
    return ("min" not in spec or x >= spec["min"]) and ("max" not in spec or x <= spec["max"])


def check_value(spec: dict[str, Any], value: str) -> tuple[str, str, str, str | None] | None:
    """(severity, code, message, suggestion) for a value that is wrong for its field, or None when it is
    fine. suggestion is the value the message proposes instead, when it proposes one."""
    bad = _check_value(spec, value)
    if bad is None or len(bad) == 4:
        return bad
    return (*bad, None)


def _check_value(spec: dict[str, Any], value: str) -> tuple | None:
    kind, name = spec["type"], spec["name"]
    if kind in ("integer", "port"):
        must = f"{name} must be {_range_text(spec, 'integer')}, e.g. {_example(spec)}"
        if not INTEGER_RE.match(value):
            return "error", "bad-integer", f"{name}: '{value}' is not an integer; {must}"
        # float(), not int(): int() of more than 4,300 digits raises; a float of them is inf, out of range
        # (every integer field has a max below 2**53, where floats are still exact).
        if not _in_range(spec, float(value)):
            return "error", "out-of-range", f"{name}: {value} is out of range; {must}"
    elif kind == "number":
        must = f"{name} must be {_range_text(spec, 'number')} (seconds), e.g. {_example(spec)}"
        if not NUMBER_RE.match(value):
            return "error", "bad-number", f"{name}: '{value}' is not a number; {must}"
        if not _in_range(spec, float(value)):
            return "error", "out-of-range", f"{name}: {value} is out of range; {must}"
    elif kind == "boolean":
        if value.lower() not in TRUE_WORDS + FALSE_WORDS:
            return "error", "bad-boolean", f"{name}: '{value}' is not on/off, true/false, yes/no or 1/0"
    elif kind == "enum":
        if value not in spec["values"]:
            choices = ", ".join(spec["values"])
            meant = suggest_value(value, spec["values"])
            if meant is not None:
                message = f"{name}: '{value}' is not one of {choices}: did you mean {meant}?"
                return "error", "bad-enum", message, meant
            return "error", "bad-enum", f"{name}: '{value}' is not one of {choices}, e.g. {_example(spec)}"
    elif kind == "host":
        if value.startswith("[") and value.endswith("]") and ipv6_groups(value[1:-1]) is not None:
            bare = value[1:-1]
            message = f"{name}: write the IPv6 address without brackets: {name}={bare}"
            return "error", "bad-host", message, bare
        if not (is_ipv4(value) or ipv6_groups(value) is not None or is_hostname(value)):
            return (
                "error",
                "bad-host",
                f"{name}: '{value}' is not an IPv4/IPv6 address or a hostname, e.g. {_example(spec)}",
            )
        if not is_loopback(value):
            return "warning", "non-loopback-host", _network_warning(name, value)
    elif kind == "hostname":
        if not (is_hostname(value) or is_ipv4(value)):
            return "error", "bad-hostname", f"{name}: '{value}' is not a hostname, e.g. {_example(spec)}"
    elif kind == "module":
        if not value_pattern(spec).match(value):
            hint, suggestion = _module_hint(value, value_pattern(spec))
            message = f"{name}: '{value}' is not a dotted module path{hint}"
            return "error", "bad-module", message, suggestion
    elif kind == "identifier":
        if not IDENTIFIER_RE.match(value):
            return "error", "bad-identifier", f"{name}: '{value}' is not a Python name, e.g. {_example(spec)}"
    elif kind == "address":
        return _check_address(spec, value)
    return None


def _network_warning(name: str, host: str) -> str:
    return (
        f"{name}={host} is not a loopback address: the server will be reachable from the network; "
        f"use 127.0.0.1 to keep it on this machine"
    )


_PATTERNS: dict[str, re.Pattern] = {}


def value_pattern(spec: dict[str, Any]) -> re.Pattern:
    """The schema's `pattern` of a field (compiled once); a module field without one takes MODULE_RE."""
    pattern = _PATTERNS.get(spec["name"])
    if pattern is None:
        pattern = re.compile(spec["pattern"]) if "pattern" in spec else MODULE_RE
        _PATTERNS[spec["name"]] = pattern
    return pattern


def _module_hint(value: str, pattern: re.Pattern) -> tuple[str, str | None]:
    """What to write instead of a bad APP value: (the message's hint, the value it proposes or None)."""
    module, colon, callable_name = value.partition(":")
    if value.endswith(".py") or "/" in value or "\\" in value:
        dotted = re.sub(r"\.py\Z", "", value).replace("\\", "/").strip("/").replace("/", ".")
        suggestion = dotted if pattern.match(dotted) else None
        return f": write it with dots and without .py, e.g. APP={dotted}", suggestion
    if colon and MODULE_RE.match(module):
        if callable_name == "":
            hint = f": write the callable's name after the colon (APP={module}:app) or drop the colon"
            return hint, module
        if callable_name.endswith(")"):
            return (
                ": a factory call is not supported; make the app a module-level name "
                f"(app = {callable_name} in {module}) and write APP={module}:app",
                None,
            )
        return ": after the colon comes one Python name, the WSGI callable (APP=mypkg.wsgi:app)", None
    return ", e.g. APP=mypkg.wsgi (for mypkg/wsgi.py) or APP=mypkg.wsgi:app", None


def split_address(value: str) -> tuple[str, str] | None:
    """HOST:PORT or [IPv6]:PORT -> (host, port text), or None when it is not of that shape."""
    if value.startswith("["):
        close = value.find("]")
        if close < 0 or value[close + 1 : close + 2] != ":":
            return None
        return value[1:close], value[close + 2 :]
    host, colon, port = value.rpartition(":")
    if not colon or ":" in host:
        return None
    return host, port


def _check_address(spec: dict[str, Any], value: str) -> tuple[str, str, str] | None:
    name = spec["name"]
    if value == "":
        return None  # empty: the feature is off
    parts = split_address(value)
    ok = False
    if parts:
        host, port = parts
        bracketed = value.startswith("[")
        host_ok = ipv6_groups(host) is not None if bracketed else (is_ipv4(host) or is_hostname(host))
        port_ok = bool(INTEGER_RE.match(port)) and port[0] not in "+-" and 1 <= float(port) <= 65535
        ok = host_ok and port_ok
    if not ok:
        return "error", "bad-address", f"{name}: '{value}' is not HOST:PORT, e.g. {_example(spec)}"
    if not is_loopback(parts[0]):
        return "warning", "non-loopback-host", _network_warning(name, value)
    return None


def convert(spec: dict[str, Any], value: str) -> Any:
    """The typed value of a value that passed check_value."""
    kind = spec["type"]
    if kind in ("integer", "port"):
        return int(float(value))  # exact: every integer field's max is below 2**53 (no int() of 5,000 digits)
    if kind == "number":
        return float(value)
    if kind == "boolean":
        return value.lower() in TRUE_WORDS
    return value


def default_value(spec: dict[str, Any]) -> Any:
    """The schema's default with the field's Python type (5 -> 5.0 for a number)."""
    default = spec.get("default")
    if spec["type"] == "number" and default is not None:
        return float(default)
    return default


# ----------------------------------------------------------------------------------------------------------
# Keys: unknown, wrong case, duplicates, missing


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance where swapping two neighbours also costs 1 (HSOT -> HOST is one edit)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def suggest_key(key: str) -> str | None:
    """The known key a misspelt one most likely meant (same rule as the language server's suggestKey)."""
    upper = key.upper()
    best, best_distance = None, 3
    for name in FIELDS:
        if upper == name:
            return name
        limit = 1 if len(name) <= 4 else 2
        if abs(len(upper) - len(name)) > limit:
            continue  # the distance is at least the difference in length
        distance = edit_distance(upper, name)
        if distance <= limit and distance < best_distance:
            best, best_distance = name, distance
    if best is None:
        # THREADS -> APP_THREADS; but TIMEOUT (four *_TIMEOUT keys) is too far a guess to offer one.
        affixed = [n for n in FIELDS if n.endswith("_" + upper) or n.startswith(upper + "_")]
        if len(affixed) == 1:
            return affixed[0]
    return best


def suggest_value(value: str, choices: list[str]) -> str | None:
    """The choice a wrong enum value most likely meant: the same word in another case (`Combined`), the one
    choice it starts (`warn` -> warning, from 3 letters), or the one choice a letter away (`comon`, from 4
    letters); None for a far miss. Same rule as the language server's suggestValue."""
    lower = value.lower()
    for choice in choices:
        if choice.lower() == lower:
            return choice
    if len(lower) >= 3:
        started = [c for c in choices if c.startswith(lower)]
        if len(started) == 1:
            return started[0]
    close = [c for c in choices if len(c) >= 4 and edit_distance(lower, c) <= 1]
    return close[0] if len(close) == 1 else None


def _key_problem(entry: Entry) -> Problem | None:
    if entry.key in FIELDS:
        return None
    suggestion = suggest_key(entry.key)
    span = (entry.line, entry.key_start, entry.key_end)
    if suggestion == entry.key.upper():
        message = f"keys are upper-case: write {suggestion}, not {entry.key}"
        return Problem(*span, "error", "wrong-case-key", message, suggestion)
    hint = f"did you mean {suggestion}? " if suggestion else ""
    message = f"unknown key {entry.key}: {hint}the server ignores it (see docs/config.md for the keys)"
    return Problem(*span, "warning", "unknown-key", message, suggestion)


def _duplicate_problems(entries: list[Entry]) -> list[Problem]:
    """Every occurrence of a key but the last one: the last value wins (as in the 0.2 parser)."""
    last: dict[str, Entry] = {}
    for entry in entries:
        last[entry.key] = entry
    return [
        Problem(
            e.line,
            e.key_start,
            e.key_end,
            "warning",
            "duplicate-key",
            f"{e.key} is set again on line {last[e.key].line}, which wins: this line has no effect; "
            "remove it",
        )
        for e in entries
        if last[e.key] is not e
    ]


def _callable_problems(entries: list[Entry], values: dict[str, Any]) -> list[Problem]:
    """APP=module:callable (gunicorn's form) names the callable itself: the settings get it, and an
    APP_CALLABLE line beside it has no effect (a warning on that line, the last one when it repeats)."""
    module, colon, callable_name = values["app"].partition(":")
    if not colon:
        return []
    values["app"], values["app_callable"] = module, callable_name
    named = [e for e in entries if e.key == "APP_CALLABLE" and IDENTIFIER_RE.match(e.value)]
    if not named:
        return []
    line = named[-1]
    message = (
        f"APP_CALLABLE has no effect: APP={module}:{callable_name} names the callable after the colon; "
        "remove this line"
    )
    return [Problem(line.line, line.key_start, line.value_end, "warning", "overridden-callable", message)]


def _missing_problems(entries: list[Entry]) -> list[Problem]:
    """Missing required fields sit at line 1, columns 0-0 (zero width): there is no better place for them."""
    present = {e.key for e in entries}
    return [
        Problem(
            1,
            0,
            0,
            "error",
            "missing-required",
            f"missing required field {name}: add a line {name}={spec['example']}",
        )
        for name, spec in FIELDS.items()
        if spec["required"] and name not in present
    ]


# ----------------------------------------------------------------------------------------------------------
# File-system checks (warnings; only with a base_dir)


def module_file(base_dir: str, module: str) -> str | None:
    """mypkg.wsgi -> base_dir/mypkg/wsgi.py or base_dir/mypkg/wsgi/__init__.py, if either exists."""
    base = os.path.join(base_dir, *module.split("."))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(candidate):
            return candidate
    return None


def defines_name(source: str, name: str) -> bool:
    """Whether a module's source defines `name` at top level (assignment, def, class or import).
    A textual check, on purpose: importing the user's module here would run its code."""
    n = re.escape(name)
    patterns = (
        rf"^(?:async\s+)?def\s+{n}\b",
        rf"^class\s+{n}\b",
        rf"^(?:[A-Za-z_][A-Za-z0-9_]*\s*=\s*)*{n}\s*(?::[^=\n]*)?=(?!=)",
        rf"^from\s+\S+\s+import\s+.*\b{n}\b",
        rf"^import\s+.*\bas\s+{n}\b",
    )
    return any(re.search(p, source, re.MULTILINE) for p in patterns)


def read_somaxconn() -> int | None:
    try:
        with open(SOMAXCONN_PATH) as file:
            return int(file.read().strip())
    except (OSError, ValueError):
        return None


def _file_system_problems(entries: list[Entry], base_dir: str) -> list[Problem]:
    problems: list[Problem] = []
    effective = {e.key: e for e in entries}
    app = effective.get("APP")
    if app and value_pattern(FIELDS["APP"]).match(app.value):
        module, colon, callable_name = app.value.partition(":")
        named = effective.get("APP_CALLABLE")
        if not colon:
            callable_name = named.value if named and IDENTIFIER_RE.match(named.value) else "application"
        span = (app.line, app.value_start, app.value_start + len(module))
        path = module_file(base_dir, module)
        if path is None:
            file_hint = module.replace(".", "/") + ".py"
            message = (
                f"APP: module {module} not found in {base_dir} (looked for {file_hint}); "
                f"the server imports it from the folder it runs in"
            )
            problems.append(Problem(*span, "warning", "module-not-found", message))
        else:
            try:
                with open(path, encoding="utf-8", errors="replace") as file:
                    source = file.read()
            except OSError:
                source = None
            if source is not None and not defines_name(source, callable_name):
                other = "name another one after the colon" if colon else "set APP_CALLABLE"
                message = (
                    f"APP: {os.path.basename(path)} does not define `{callable_name}` at top level; "
                    f"define the WSGI callable there or {other}"
                )
                # In APP=module:callable the callable is what is wrong: underline it.
                where = (app.line, app.value_end - len(callable_name), app.value_end) if colon else span
                problems.append(Problem(*where, "warning", "no-application", message))
    backlog = effective.get("SOCKET_BACKLOG")
    somaxconn = read_somaxconn()
    if backlog and somaxconn and INTEGER_RE.match(backlog.value) and int(backlog.value) > somaxconn:
        message = (
            f"SOCKET_BACKLOG={backlog.value} is above the kernel's net.core.somaxconn ({somaxconn}), "
            f"which caps it; raise somaxconn or use {somaxconn}"
        )
        span = (backlog.line, backlog.value_start, backlog.value_end)
        problems.append(Problem(*span, "warning", "above-somaxconn", message))
    return problems


# ----------------------------------------------------------------------------------------------------------
# Entry points


def sort_problems(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.line, p.start, p.end, p.code))


def parse_config_text(text: str, base_dir: Path | str | None = None) -> tuple[Settings, list[Problem]]:
    entries, problems = parse_lines(text)
    values = {name.lower(): default_value(spec) for name, spec in FIELDS.items()}
    for entry in entries:
        key_problem = _key_problem(entry)
        if key_problem:
            problems.append(key_problem)
            continue
        spec = FIELDS[entry.key]
        if entry.value == "" and spec["type"] != "address":
            message = f"{entry.key} has no value: write one after =, e.g. {_example(spec)}"
            span = (entry.line, entry.key_start, entry.equals + 1)
            problems.append(Problem(*span, "error", "empty-value", message))
            continue
        bad = check_value(spec, entry.value)
        if bad:
            severity, code, message, suggestion = bad
            span = (entry.line, entry.value_start, entry.value_end)
            problems.append(Problem(*span, severity, code, message, suggestion))
            if severity == "error":
                continue
        values[entry.key.lower()] = convert(spec, entry.value)  # later lines win
    problems += _callable_problems(entries, values)
    problems += _duplicate_problems([e for e in entries if e.key in FIELDS])
    problems += _missing_problems(entries)
    if base_dir is not None:
        problems += _file_system_problems([e for e in entries if e.key in FIELDS], path_text(base_dir))
    return Settings(values), sort_problems(problems)


def path_text(path: str | Path) -> str:
    """str(pathlib.PurePosixPath(path)) without importing pathlib: blank and `.` parts dropped, one `/`
    between parts, and a leading `//` (exactly two) kept, as POSIX allows."""
    text = os.fspath(path)
    root = "/" if text.startswith("/") else ""
    if text.startswith("//") and not text.startswith("///"):
        root = "//"
    return root + "/".join(part for part in text.split("/") if part and part != ".") or "."


def decode_config(data: bytes, path: str | None = None) -> str:
    """The text of a config file: UTF-8, a leading BOM (written by some editors) dropped. Bytes that are not
    UTF-8 raise ConfigError with one not-utf8 problem naming the line and column of the first of them."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = len(data[line_start : error.start].decode("utf-8"))  # characters before the bad byte
        message = (
            f"not UTF-8 text: byte 0x{data[error.start]:02x} at column {column + 1} of this line; "
            "save the file as UTF-8 (in VS Code: click the encoding in the status bar, Save with Encoding)"
        )
        problem = Problem(line, column, column + 1, "error", "not-utf8", message)
        raise ConfigError([problem], path) from None


def load_config(path: str | Path) -> Settings:
    """Reads, validates and converts a config file; raises ConfigError listing every error (not warnings)."""
    from pathlib import Path  # only on reload and in tests: not worth keeping pathlib in memory

    path = Path(path)
    text = decode_config(path.read_bytes(), str(path))
    settings, problems = parse_config_text(text, base_dir=path.resolve().parent)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors, str(path))
    settings.source = str(path)
    settings.warnings = [p for p in problems if p.severity == "warning"]
    return settings
