"""Writes the synchronous API client, ``client/_sync.py``, from the asynchronous one, ``client/_async.py``.

``_async.py`` is the one source of both: ``unasync`` rewrites its text by the substitutions
below (``async def`` to ``def``, ``await x`` to ``x``, ``AsyncClient`` to ``Client``...), then ruff
puts the imports in order again, turns the loops that only re-yield into ``yield from`` and the
comprehensions that only copy into ``list()``, and formats the file. Whatever the two clients do
differently beyond that lives in ``client/_base.py`` as a pair of helpers, ``name`` and
``name_async``. ``tests/client/test_unasync.py`` fails when ``_sync.py`` is not what this writes.

    python3 dev.py unasync
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

COMMAND = "python3 dev.py unasync"
ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "sdk" / "src" / "wirehub_sdk" / "client"
ASYNC_FILE = CLIENT / "_async.py"
SYNC_FILE = CLIENT / "_sync.py"
HEADER = f"# Generated from _async.py by `{COMMAND}`: edit _async.py, never this file.\n"

SUBSTITUTIONS: list[tuple[str, str]] = [
    # asyncio and what stands for it in synchronous code
    (r"\bimport asyncio$", "import threading"),
    (r"\basyncio\.Lock\b", "threading.Lock"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"\bwebsockets\.asyncio\.client\b", "websockets.sync.client"),
    (r"\bfrom asyncio code\b", "from synchronous code"),  # the docstrings
    # the language
    (r"\basync def ", "def "),
    (r"\basync with ", "with "),
    (r"\basync for ", "for "),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\baclose\b", "close"),
    # AsyncClient, httpx.AsyncBaseTransport, AsyncIterator: Client, httpx.BaseTransport, Iterator
    (r"\bAsync([A-Z]\w*)\b", r"\1"),
    # the helpers of _base.py: every_item_async, next_message_async: every_item, next_message
    (r"\b([a-z]\w*)_async\b", r"\1"),
    # a noqa of an ASYNC rule has nothing to silence in synchronous code
    (r"  # noqa: ASYNC\d+\b.*$", ""),
]
_COMPILED = [(re.compile(pattern, re.MULTILINE), replacement) for pattern, replacement in SUBSTITUTIONS]

CLEANUPS = [
    "I001",  # the imports in order (AsyncIterator became Iterator)
    "UP028",  # `for item in every_item(...): yield item` -> `yield from every_item(...)`
    "C416",  # `[w for w in self.iter_workflows()]` -> `list(self.iter_workflows())`
]
"""Ruff's fixes that make the substituted text idiomatic. They are unsafe in general (a generator
sent values, a loop variable read after the loop); the client's iterators are read, never sent to."""


def unasync(source: str) -> str:
    """The text of ``source`` with every substitution made, in order."""
    for pattern, replacement in _COMPILED:
        source = pattern.sub(replacement, source)
    return source


def generate(async_source: str) -> str:
    """``_sync.py`` for the text of ``_async.py``: the header, the substitutions, then ruff's fixes and format."""
    text = HEADER + unasync(async_source)
    text = _ruff(["check", "--select", ",".join(CLEANUPS), "--fix", "--unsafe-fixes", "--quiet"], text)
    return _ruff(["format", "--quiet"], text)


def _ruff(arguments: list[str], text: str) -> str:
    """``text`` passed through ``ruff`` (with the project's settings for ``_sync.py``)."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *arguments, "--stdin-filename", str(SYNC_FILE), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if done.returncode:
        raise RuntimeError(f"ruff {arguments[0]} failed on the generated {SYNC_FILE.name}:\n{done.stderr}{done.stdout}")
    return done.stdout


def main() -> None:
    """Writes ``_sync.py`` anew from ``_async.py``."""
    SYNC_FILE.write_text(generate(ASYNC_FILE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {SYNC_FILE.relative_to(ROOT)} from {ASYNC_FILE.name}")


if __name__ == "__main__":
    main()
