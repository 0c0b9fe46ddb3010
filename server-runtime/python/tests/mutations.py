"""Structured mutations of real HTTP requests: plain functions of a seed stream and a random.Random, used by
the fuzzing suites (through fuzzing.py, which lets Hypothesis choose the seeds) and by the benchmark's garbage
soak (bench/garbage_soak.py). No dependency beyond the stdlib, so the benchmark's venvs can import it."""

from __future__ import annotations

import random
import re
from pathlib import Path

TESTS = Path(__file__).parent


def _unescape(text: str) -> bytes:
    text = text.replace("\n", "")
    return re.sub(
        r"\\(r|n|t|x[0-9a-fA-F]{2})",
        lambda m: {"r": "\r", "n": "\n", "t": "\t"}.get(m.group(1)) or chr(int(m.group(1)[1:], 16)),
        text,
    ).encode("latin-1")


def load_corpus() -> list[bytes]:
    files = sorted((TESTS / "fuzz_corpus").glob("*.http")) + sorted((TESTS / "http_fixtures").glob("*.http"))
    return [_unescape(path.read_text(encoding="latin-1")) for path in files]


CORPUS = load_corpus()


# ---- mutations: each is a function (stream, random.Random) -> stream ----
# Hypothesis draws a case as plain integers (which seed, which mutations with which random seeds, which
# splits) and the mutations are ordinary functions of a Random made from them: generating a case costs
# microseconds instead of the milliseconds of nested composite strategies, and shrinking still works (fewer
# mutations, earlier seeds, smaller numbers).

_NUMBER = re.compile(rb"[0-9A-Fa-f]+")

INTERESTING_HEADERS = [
    b"Content-Length: 0",
    b"Content-Length: 5",
    b"Content-Length: -1",
    b"Content-Length: 18446744073709551616",
    b"Content-Length: " + b"0" * 5000 + b"3",
    b"Content-Length: " + b"9" * 4400,
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: Chunked",
    b"Transfer-Encoding: gzip, chunked",
    b"Transfer-Encoding: chunked, identity",
    b"Transfer-Encoding:\tchunked",
    b"Host: a b",
    b"Host: user@evil",
    b"Host: [::1]:99999999999999999999",
    b"Host: ",
    b"Expect: 100-continue",
    b"Connection: close",
    b"Connection: keep-alive",
    b"X_Under_Score: 1",
    b"X-Long: " + b"v" * 9000,
    b"X-Bin: \x00\x01\x7f\xff",
    b"Cookie: a=1",
    b" leading-space: x",
    b"NoColon",
]


def number_length(rng: random.Random) -> int:
    """Short numbers, numbers around CPython's int() digit limit (4,300), and anything up to 6,000 digits."""
    pick = rng.random()
    if pick < 0.5:
        return rng.randint(0, 20)
    if pick < 0.75:
        return rng.choice([4299, 4300, 4301, 5000, 6000])
    return rng.randint(0, 6000)


def replace_number(data: bytes, rng: random.Random) -> bytes:
    spans = [m.span() for m in _NUMBER.finditer(data)]
    if not spans:
        return data
    start, end = rng.choice(spans)
    lead = b"0" * rng.choice([0, 0, 1, 50])
    return data[:start] + lead + rng.choice(b"019fF").to_bytes(1, "big") * number_length(rng) + data[end:]


def replace_byte(data: bytes, rng: random.Random) -> bytes:
    """Every byte value at any position, replacing or inserted."""
    if not data:
        return data
    pos = rng.randrange(len(data))
    value = bytes([rng.randrange(256)])
    return data[:pos] + value + data[pos + rng.randint(0, 1) :]


def edit_lines(data: bytes, rng: random.Random) -> bytes:
    head, sep, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if len(lines) < 2:
        return data
    i = rng.randint(1, len(lines) - 1)
    action = rng.choice(["drop", "repeat", "add", "add", "swap"])
    if action == "drop":
        del lines[i]
    elif action == "repeat":
        lines.insert(i, lines[i])
    elif action == "add":
        lines.insert(i, rng.choice(INTERESTING_HEADERS))
    else:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return b"\r\n".join(lines) + sep + rest


def break_line_ends(data: bytes, rng: random.Random) -> bytes:
    positions = [m.start() for m in re.finditer(rb"\r\n", data)]
    if not positions:
        return data
    pos = rng.choice(positions)
    replacement = rng.choice([b"\n", b"\r", b"\r\r\n", b"\r\n\r\n", b"\r\n ", b""])
    return data[:pos] + replacement + data[pos + 2 :]


def cut(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(0, len(data))]


def pipeline(data: bytes, rng: random.Random) -> bytes:
    return data + rng.choice(CORPUS)


def leading_empty_lines(data: bytes, rng: random.Random) -> bytes:
    return b"\r\n" * rng.randint(1, 40) + data


MUTATIONS = [replace_number, replace_byte, edit_lines, break_line_ends, cut, pipeline, leading_empty_lines]


def build(case) -> tuple[bytes, list[bytes]]:
    """The stream of a case and the pieces it is sent in."""
    seed, mutations, style, split_seed = case
    data = CORPUS[seed]
    for index, mutation_seed in mutations:
        data = MUTATIONS[index](data, random.Random(mutation_seed))
    return data, pieces(data, split_sizes(len(data), style, random.Random(split_seed)))


def split_sizes(total: int, style: str, rng: random.Random) -> list[int]:
    """Piece sizes adding up to `total`: one piece, single bytes, or random sizes."""
    if style == "whole" or total == 0:
        return [max(total, 1)]
    if style == "bytes" and total <= 2000:
        return [1] * total
    sizes = []
    left = total
    while left > 0 and len(sizes) < 200:
        size = rng.randint(1, max(1, min(left, rng.choice([3, 16, 200, 9000]))))
        sizes.append(size)
        left -= size
    if left > 0:
        sizes.append(left)
    return sizes


def pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    out = []
    pos = 0
    for size in sizes:
        if pos >= len(data):
            break
        out.append(data[pos : pos + size])
        pos += size
    if pos < len(data):
        out.append(data[pos:])
    return out


def garbage(rng: random.Random) -> tuple[bytes, list[bytes]]:
    """A random case without Hypothesis (for soaks): a seed, 1-4 mutations, random splits."""
    mutations = [(rng.randrange(len(MUTATIONS)), rng.getrandbits(32)) for _ in range(rng.randint(1, 4))]
    return build(
        (rng.randrange(len(CORPUS)), mutations, rng.choice(["whole", "random"]), rng.getrandbits(32))
    )
