"""The settings reference, ``docs/settings.md``, generated from :class:`wirehub.settings.Settings`.

Each setting's variable, type (with its bounds), default and description come from
its field; a test fails when the document is not what this module renders, and
``python -m wirehub.settings_reference docs/settings.md`` rewrites it.
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from wirehub.settings import Network, Settings, variable_name

COMMAND = "python -m wirehub.settings_reference docs/settings.md"

_INTRO = f"""# Settings reference

<!-- generated from `wirehub.settings.Settings` by `{COMMAND}`; do not edit -->

Every setting of the hub is an environment variable with the `WIREHUB_` prefix, read when a
`wirehub` command starts and parsed by the type its field declares in
`hub/src/wirehub/settings.py`. Lists are comma-separated; an empty variable keeps the default; a
choice among names ignores case. A value that does not parse stops every `wirehub` command with one
line naming the variable (exit status 2), and `wirehub serve` and `wirehub worker` refuse settings
that are unsafe for a distributed hub (see [operations.md](operations.md#settings)).

`tests/test_settings.py` fails when this page and the code disagree.

| variable | type | default | description |
| --- | --- | --- | --- |
"""

_NAMES: dict[Any, str] = {int: "integer", float: "number", bool: "`true` or `false`", str: "text", Path: "path"}


def render() -> str:
    """The whole of ``docs/settings.md`` for the current ``Settings``."""
    rows = [_row(field) for field in msgspec.structs.fields(Settings)]
    return _INTRO + "\n".join(rows) + "\n"


def _row(field: msgspec.structs.FieldInfo) -> str:
    cells = (f"`{variable_name(field.name)}`", _type(field.type), _default(field.default), _description(field.type))
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _parts(annotation: Any) -> tuple[Any, list[msgspec.Meta]]:
    if typing.get_origin(annotation) is Annotated:
        base, *metadata = typing.get_args(annotation)
        return base, [meta for meta in metadata if isinstance(meta, msgspec.Meta)]
    return annotation, []


def _type(annotation: Any) -> str:
    base, metadata = _parts(annotation)
    arguments = [arg for arg in typing.get_args(base) if arg is not type(None)]
    optional = typing.get_origin(base) in (typing.Union, _UnionType) and len(arguments) < len(typing.get_args(base))
    if optional:
        base = arguments[0]
    text = _kind(base) + _bounds(metadata)
    return f"{text}, optional" if optional else text


_UnionType = type(int | None)


def _kind(kind: Any) -> str:
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(f"`{value}`" for value in typing.get_args(kind))
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        return "list of CIDR networks" if item is Network else f"list of {_kind(item)}"
    return _NAMES.get(kind, getattr(kind, "__name__", str(kind)))


def _bounds(metadata: list[msgspec.Meta]) -> str:
    limits = []
    for meta in metadata:
        for name, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, name)
            if value is not None:
                limits.append(f"{sign} {_number(value)}")
        if meta.min_length:
            limits.append("not empty")
    return f" ({', '.join(limits)})" if limits else ""


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _default(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, tuple):
        return "(none)" if not value else "`" + ",".join(map(str, value)) + "`"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, int | float):
        return f"`{_number(value)}`"
    return f"`{value}`"


def _description(annotation: Any) -> str:
    _, metadata = _parts(annotation)
    return next((meta.description for meta in metadata if meta.description), "")


def main(argv: list[str]) -> int:
    """Writes the reference to the file named in ``argv`` (or prints it)."""
    text = render()
    if argv:
        Path(argv[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
