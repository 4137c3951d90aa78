"""Bodies are decompressed within their byte budget, and JSON bodies decode to one clear error or a value."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib

import pytest

from wirehub_sdk import JSONBodyError, decode_json
from wirehub_sdk._decoding import MAX_JSON_DEPTH, BoundedDecoder, BudgetExceededError, json_depth


def chunks(data: bytes, size: int = 65536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data, wbits=-15)),  # raw deflate, as some servers send
        ("gzip, deflate", lambda data: zlib.compress(gzip.compress(data))),
        ("identity", lambda data: data),
        ("", lambda data: data),
    ],
)
def test_every_supported_encoding_round_trips(encoding: str, encode: object) -> None:
    body = b"hello, hub " * 1000
    decoder = BoundedDecoder(encoding, limit=len(body))
    for chunk in chunks(encode(body), 100):  # type: ignore[operator]
        decoder.feed(chunk)
    assert decoder.finish() == body


def test_an_unknown_encoding_leaves_the_body_as_received() -> None:
    decoder = BoundedDecoder("br", limit=100)
    decoder.feed(b"\x1b\x00raw")
    assert decoder.finish() == b"\x1b\x00raw"


def test_a_gzip_bomb_stops_at_the_limit_without_inflating_a_whole_chunk() -> None:
    bomb = gzip.compress(b"\0" * 200_000_000)  # about 200 KB that decode to 200 MB
    decoder = BoundedDecoder("gzip", limit=1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(BudgetExceededError):  # noqa: PT012  # the bomb goes in chunk by chunk, as from the network
            for chunk in chunks(bomb):
                decoder.feed(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000, f"decoding held {peak} bytes at its peak"


def test_exactly_the_limit_is_allowed() -> None:
    decoder = BoundedDecoder("gzip", limit=1000)
    decoder.feed(gzip.compress(b"x" * 1000))
    assert len(decoder.finish()) == 1000
    over = BoundedDecoder("gzip", limit=999)
    with pytest.raises(BudgetExceededError):
        over.feed(gzip.compress(b"x" * 1000))


def test_a_body_that_is_not_valid_for_its_encoding_raises_a_zlib_error() -> None:
    decoder = BoundedDecoder("gzip", limit=1000)
    with pytest.raises(zlib.error):
        decoder.feed(b"this is not gzip")


# -- JSON bodies: what a remote server chooses to send --


def test_a_json_body_decodes() -> None:
    assert decode_json(b'{"a": [1, 2.5, "\\ud83d\\ude00", null]}') == {"a": [1, 2.5, "\U0001f600", None]}


def test_the_nesting_is_measured_outside_strings() -> None:
    assert json_depth(b'["[[[{{{", {"a": [[]]}, "\\"[["]') == 4
    assert json_depth(b"1") == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"[" * 1_000 + b"]" * 1_000, "more than 128 levels deep"),
        (b"[" * 200_000 + b"]" * 200_000, "more than 128 levels deep"),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "more than 128 levels deep"),
        (b'{"n": 1' + b"0" * 5_000 + b"}", "out of range"),
        (b'{"n": 1e400}', "out of range"),
        (b'{"s": "\\ud800"}', "lone surrogate"),
        (b'{"s": "x\\udc00"}', "lone surrogate"),
        (b'{"s": ', "not JSON"),
    ],
    ids=["1000-deep", "200000-deep", "one-too-deep", "5000-digits", "1e400", "lone-high", "lone-low", "truncated"],
)
def test_a_hostile_json_body_is_one_clear_error(body: bytes, words: str) -> None:
    with pytest.raises(JSONBodyError, match=words):
        decode_json(body)


def test_the_deepest_accepted_body_decodes() -> None:
    body = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    value = decode_json(body)
    for _ in range(MAX_JSON_DEPTH - 1):
        value = value[0]
    assert value == []


def test_measuring_a_large_body_is_fast() -> None:
    body = (
        b"["
        + b",".join(b'{"id": %d, "tags": ["a", "[b"], "n": {"m": [1, {"k": 2}]}}' % i for i in range(50_000))
        + b"]"
    )
    started = time.perf_counter()
    assert json_depth(body) == 5
    assert time.perf_counter() - started < 3.0
