"""Reads and validates the server's config file against config_schema.json.

The schema is the one source of truth shared with the VS Code language server; the shared test vectors in
test/vectors/config/ are run by both sides so they report the same problems on the same spans.

Interface used by the rest of the runtime:
    parse_config_text(text, base_dir=None) -> (Settings, list[Problem])
    load_config(path) -> Settings            # raises ConfigError(problems) when there is any error
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("config_schema.json")
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
FIELDS: dict[str, dict[str, Any]] = {f["name"]: f for f in SCHEMA["fields"]}


@dataclass(frozen=True)
class Problem:
    """One problem in a config file. line is 1-based; columns are 0-based, end exclusive (as in LSP)."""

    line: int
    start: int
    end: int
    severity: str  # "error" | "warning"
    code: str
    message: str

    def format(self, path: str | None = None) -> str:
        where = f"{path}:{self.line}" if path else f"line {self.line}"
        return f"{where}: {self.severity}: {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem], path: str | None = None):
        self.problems = problems
        self.path = path
        super().__init__("\n".join(p.format(path) for p in problems))


@dataclass
class Settings:
    """Typed values of every schema field (defaults filled in), keyed by the schema name in lower case."""

    values: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


def _convert(spec: dict[str, Any], raw: str) -> Any:
    kind = spec["type"]
    if kind in ("integer", "port"):
        return int(raw)
    if kind == "number":
        return float(raw)
    if kind == "boolean":
        return raw.lower() in ("1", "true", "yes", "on")
    return raw


def parse_config_text(text: str, base_dir: Path | None = None) -> tuple[Settings, list[Problem]]:
    """Minimal first version: KEY=VALUE lines, comments, required fields, int/float conversion."""
    problems: list[Problem] = []
    raw: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if "=" not in stripped:
            problems.append(
                Problem(
                    lineno, 0, len(line), "error", "not-key-value", f"expected KEY=VALUE, got {stripped!r}"
                )
            )
            continue
        key, _, value = stripped.partition("=")
        key, value = key.strip(), value.strip()
        spec = FIELDS.get(key)
        if spec is None:
            problems.append(Problem(lineno, 0, len(line), "error", "unknown-key", f"unknown key {key}"))
            continue
        try:
            _convert(spec, value)
        except ValueError:
            problems.append(
                Problem(
                    lineno,
                    0,
                    len(line),
                    "error",
                    "bad-value",
                    f"{key}: {value!r} is not a valid {spec['type']}",
                )
            )
            continue
        raw[key] = value
    for name, spec in FIELDS.items():
        if spec["required"] and name not in raw:
            problems.append(Problem(1, 0, 0, "error", "missing-required", f"missing required field {name}"))
    values = {name.lower(): spec.get("default") for name, spec in FIELDS.items()}
    for key, value in raw.items():
        values[key.lower()] = _convert(FIELDS[key], value)
    return Settings(values), problems


def load_config(path: str | Path) -> Settings:
    path = Path(path)
    settings, problems = parse_config_text(path.read_text(encoding="utf-8"), base_dir=path.parent)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise ConfigError(errors, str(path))
    settings.source = str(path)
    return settings
