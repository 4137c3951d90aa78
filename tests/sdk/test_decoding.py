"""Bodies are decompressed within their byte budget, whatever the compression ratio."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest

from wirehub_sdk._decoding import BoundedDecoder, BudgetExceededError


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
