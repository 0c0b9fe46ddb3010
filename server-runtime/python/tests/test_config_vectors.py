"""Runs the shared config test vectors (test/vectors/config/*.json) against the Python validator.

The TypeScript language server runs the same files (test/unit/config-vectors.test.ts), so the two sides
report the same problems on the same spans.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from Server_3_free_threads.config import SCHEMA, parse_config_text

VECTOR_DIR = Path(__file__).resolve().parents[3] / "test" / "vectors" / "config"


def load_vectors() -> list[tuple[str, dict]]:
    vectors = []
    for path in sorted(VECTOR_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for vector in data if isinstance(data, list) else [data]:
            vectors.append((f"{path.stem}: {vector['name']}", vector))
    return vectors


VECTORS = load_vectors()


def test_vectors_are_found():
    assert len(VECTORS) > 50


@pytest.mark.parametrize("vector", [v for _, v in VECTORS], ids=[name for name, _ in VECTORS])
def test_vector(vector):
    _, problems = parse_config_text(vector["text"])
    unmatched = list(problems)
    missing = []
    for expected in vector["problems"]:
        match = next((p for p in unmatched if _matches(p, expected)), None)
        if match is None:
            missing.append(expected)
        else:
            unmatched.remove(match)
    assert not missing and not unmatched, (
        f"expected but not reported: {missing}\nreported but not expected: {unmatched}"
    )


def _matches(problem, expected: dict) -> bool:
    same = (problem.line, problem.start, problem.end, problem.severity, problem.code) == (
        expected["line"],
        expected["start"],
        expected["end"],
        expected["severity"],
        expected["code"],
    )
    if "mentions" in expected and expected["mentions"] not in problem.message:
        return False
    if "suggestion" in expected and expected["suggestion"] != problem.suggestion:
        return False
    return same


def test_every_reported_code_is_listed_in_the_schema():
    listed = {p["code"]: p["severity"] for p in SCHEMA["problems"]}
    reported = [p for _, v in VECTORS for p in parse_config_text(v["text"])[1]]
    assert reported
    for problem in reported:
        assert listed.get(problem.code) == problem.severity, problem


def test_file_system_codes_are_listed_in_the_schema():
    listed = {p["code"] for p in SCHEMA["problems"]}
    assert {"module-not-found", "no-application", "above-somaxconn"} <= listed
