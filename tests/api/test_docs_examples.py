"""The examples of docs/api.md, run in order against the app: what the docs show is what the API does.

A runnable example is a fenced block whose info string starts with ``http`` or ``websocket`` and
carries ``status=N`` (``http``) or is a ``websocket`` block:

- ``http status=201 save=WORKFLOW:id expect=code:not-found``: the request (``METHOD /path``, headers,
  a blank line, the body), the status it answers, the response fields saved as variables for the
  examples after it, and fields the response must have (``null`` for a JSON null; a field's path
  is dotted, list indexes as numbers: ``errors.0.pointer``). ``$NAME`` in a block is a variable:
  ``$TOKEN`` (the admin's access token), ``$USERNAME`` and ``$PASSWORD`` (the admin's), ``$WS`` (the
  default workspace) and whatever the examples before saved.
- ``websocket``: ``GET /path`` to connect, then ``>`` lines the client sends and ``<`` lines the
  server must send (in order; each matches the first message that has its fields, skipping others).

``http`` blocks without ``status=`` are illustrations and are not run.
"""

from __future__ import annotations

import asyncio
import json
import queue
import re
from dataclasses import dataclass, field
from typing import Any

from tests.api.conftest import ADMIN, DEFAULT_WORKSPACE, Api
from tests.api.livews import Live, connect
from tests.api.routes_walk import DOCS_API

FENCE = re.compile(r"^```(http|websocket)([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
VARIABLE = re.compile(r"\$([A-Z][A-Z0-9_]*)")


@dataclass
class Example:
    """One runnable block of the docs."""

    kind: str
    text: str
    line: int
    status: int | None = None
    save: dict[str, str] = field(default_factory=dict)
    expect: dict[str, str] = field(default_factory=dict)


def runnable_examples(markdown: str) -> list[Example]:
    """The runnable blocks of ``markdown``, in order."""
    found = []
    for match in FENCE.finditer(markdown):
        kind, info, text = match.group(1), match.group(2).split(), match.group(3)
        options = dict(part.split("=", 1) for part in info if "=" in part)
        if kind == "http" and "status" not in options:
            continue
        example = Example(kind, text, markdown[: match.start()].count("\n") + 1)
        example.status = int(options["status"]) if "status" in options else None
        example.save = dict(pair.split(":", 1) for pair in options.get("save", "").split(",") if pair)
        example.expect = dict(pair.split(":", 1) for pair in options.get("expect", "").split(",") if pair)
        found.append(example)
    return found


def _field(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


class Runner:
    """Runs examples against the app, keeping the variables they save."""

    def __init__(self, api: Api, token: str) -> None:
        self.api = api
        self.variables = {"TOKEN": token, "WS": str(DEFAULT_WORKSPACE), "USERNAME": ADMIN[0], "PASSWORD": ADMIN[1]}

    def fill(self, text: str) -> str:
        return VARIABLE.sub(lambda m: self.variables.get(m.group(1), m.group(0)), text)

    async def run(self, example: Example) -> None:
        where = f"docs/api.md line {example.line}"
        if example.kind == "websocket":
            await self.websocket(example, where)
            return
        head, _, body = self.fill(example.text).partition("\n\n")
        request_line, *header_lines = head.strip().splitlines()
        method, path = request_line.split()[:2]
        headers = dict(line.split(": ", 1) for line in header_lines)
        content = body.strip().encode() if body.strip() else None
        if content is not None:
            headers.setdefault("Content-Type", "application/json")
        response = await self.api.client.request(method, path, headers=headers, content=content)
        assert response.status_code == example.status, (where, response.status_code, response.text)
        answer = response.json() if response.content else None
        for name, path_in_body in example.save.items():
            self.variables[name] = str(_field(answer, path_in_body))
        for path_in_body, wanted in example.expect.items():
            got = _field(answer, path_in_body)
            shown = "null" if got is None else str(got)
            assert shown == self.fill(wanted), (where, path_in_body, answer)

    @staticmethod
    async def receive_like(live: Live, wanted: dict[str, Any], where: str) -> None:
        """Reads messages until one has every field of ``wanted``."""
        seen = []
        for _ in range(100):
            try:
                message = await live.receive(timeout=10)
            except queue.Empty:
                break
            if all(message.get(key) == value for key, value in wanted.items()):
                return
            seen.append(message)
        raise AssertionError((where, "no message like", wanted, "got", seen))

    async def websocket(self, example: Example, where: str) -> None:
        lines = self.fill(example.text).strip().splitlines()
        url = lines[0].split()[1]
        ticket = url.partition("ticket=")[2]
        live = await connect(self.api, ticket or None)
        try:
            for line in lines[1:]:
                if line.startswith("> "):
                    live.send(json.loads(line[2:]))
                elif line.startswith("< "):
                    wanted = json.loads(line[2:])
                    await self.receive_like(live, wanted, where)
        finally:
            await live.close()


async def test_the_docs_have_runnable_examples_of_each_topic() -> None:
    examples = runnable_examples(DOCS_API.read_text(encoding="utf-8"))
    text = "\n".join(example.text for example in examples)
    for topic in ("/auth/token", "/auth/refresh", "/workflows", "Idempotency-Key", "cursor=", "/executions"):
        assert topic in text, topic
    assert any(example.kind == "websocket" for example in examples)
    assert any(example.status is not None and example.status >= 400 for example in examples)


async def test_every_example_of_the_docs_answers_as_shown(api: Api) -> None:
    token = api.admin["Authorization"].removeprefix("Bearer ")
    runner = Runner(api, token)
    examples = runnable_examples(DOCS_API.read_text(encoding="utf-8"))
    assert len(examples) >= 10
    for example in examples:
        async with asyncio.timeout(30):
            await runner.run(example)
