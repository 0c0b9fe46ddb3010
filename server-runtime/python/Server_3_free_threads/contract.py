"""The contract of the control channel and the metrics (control_schema.json): what the runtime sends, what it
accepts, its exit codes. The supervisor's TypeScript types are generated from the same file
(scripts/gen-contract.mjs), so this module and they cannot disagree about a name.

`message()` builds every message the runtime sends (so a field the schema does not know is refused, not sent);
`problems()` checks a value against the schema (the tests run it over real messages and snapshots);
`EXIT` maps the exit codes' names to their numbers.
"""

from __future__ import annotations

import json
import os

with open(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "control_schema.json"), encoding="utf-8"
) as _f:
    SCHEMA = json.load(_f)

EXIT: dict[str, int] = {entry["name"]: entry["code"] for entry in SCHEMA["exitCodes"]}
EXIT_KIND: dict[int, str] = {entry["code"]: entry["kind"] for entry in SCHEMA["exitCodes"] if "kind" in entry}


def _object_fields(spec: list | dict) -> list:
    """An object's field list: {"extends": name, "fields": [...]} is the named one's fields, then its own."""
    if isinstance(spec, dict):
        return _object_fields(SCHEMA["objects"][spec["extends"]]) + spec["fields"]
    return spec


OBJECTS: dict[str, list] = {name: _object_fields(spec) for name, spec in SCHEMA["objects"].items()}
_MESSAGES = {m["type"]: m["fields"] for m in SCHEMA["runtimeMessages"]}
_COMMANDS = {c["cmd"]: c["fields"] for c in SCHEMA["supervisorCommands"]}


def message(message_type: str, /, **fields) -> dict:
    """A runtime -> supervisor message: only fields the schema lists for its type, none of the required ones
    missing (a programming error, raised at once rather than sent); None values are left out."""
    spec = _MESSAGES[message_type]
    spec = OBJECTS[spec] if isinstance(spec, str) else spec
    known = {f["name"] for f in spec}
    unknown = set(fields) - known
    missing = {f["name"] for f in spec if not f.get("optional")} - set(fields)
    if unknown or missing:
        problem = f"unknown fields {sorted(unknown)}, missing {sorted(missing)}"
        raise ValueError(f"{message_type} message: {problem}")
    return {"type": message_type, **{k: v for k, v in fields.items() if v is not None}}


def problems(value, fields: list | str, where: str = "") -> list[str]:
    """Where `value` (a decoded JSON object) departs from `fields` (a field list, or an object's name)."""
    if isinstance(fields, str):
        fields = OBJECTS[fields]
    if not isinstance(value, dict):
        return [f"{where or 'value'}: not an object"]
    out = []
    names = set()
    for field in fields:
        name = field["name"]
        names.add(name)
        path = f"{where}.{name}" if where else name
        if name not in value:
            if not field.get("optional"):
                out.append(f"{path}: missing")
            continue
        out += _type_problems(value[name], field, path)
    for extra in sorted(set(value) - names - {"type", "cmd"}):
        out.append(f"{where}.{extra}: not in the schema" if where else f"{extra}: not in the schema")
    return out


def _type_problems(item, field: dict, path: str) -> list[str]:
    kind = field["type"]
    if kind == "object":
        return problems(item, field["fields"], path)
    if kind == "list":
        if not isinstance(item, list):
            return [f"{path}: not a list"]
        out = []
        for i, element in enumerate(item):
            if field["of"] in OBJECTS:
                out += problems(element, field["of"], f"{path}[{i}]")
            else:
                out += _type_problems(element, {"type": field["of"]}, f"{path}[{i}]")
        return out
    if kind == "pairs":
        pair = isinstance(item, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in item
        )
        return [] if pair else [f"{path}: not a list of [name, value] strings"]
    ok = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "enum": lambda v: v in field.get("values", ()),
    }[kind](item)
    return (
        []
        if ok
        else [f"{path}: {item!r} is not {kind}{' of ' + str(field.get('values')) if kind == 'enum' else ''}"]
    )


def command_problems(command: dict) -> list[str]:
    """Where a supervisor -> runtime command departs from the schema."""
    spec = _COMMANDS.get(command.get("cmd"))
    return [f"unknown command {command.get('cmd')!r}"] if spec is None else problems(command, spec)
