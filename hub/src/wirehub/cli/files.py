"""The files and text a command reads: workflow files, ``--input`` and credentials, each with a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from wirehub.cli.errors import CliError

if TYPE_CHECKING:
    from wirehub.runtime import StoredCredential

MAX_FILE_BYTES = 64 * 1024 * 1024
"""No file a command reads may be larger (the engine's own limits on definitions are lower)."""


def read_file(path: Path, what: str) -> bytes:
    """The bytes of ``path``.

    Raises:
        CliError: It cannot be read (missing, a directory, no permission) or is
            larger than ``MAX_FILE_BYTES``.
    """
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read {what} {str(path)!r}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise CliError(f"{what} {str(path)!r} is larger than {MAX_FILE_BYTES} bytes")
    return data


def read_input(value: str | None) -> Any:
    """The execution input from ``--input``: JSON text, or ``@FILE`` to read it from a file.

    The text is read by the engine's ``read_input``, within the input limits
    (size, depth, 64-bit integers, no lone surrogates) that every way in shares.

    Raises:
        CliError: The file cannot be read or the text is not an acceptable input.
    """
    from wirehub.engine import read_input as decode_input

    if value is None:
        return None
    if value.startswith("@"):
        if value == "@":
            raise CliError("--input @ needs a file name after the @ (e.g. --input @input.json)")
        raw = read_file(Path(value[1:]), "the --input file")
    else:
        raw = value.encode("utf-8", errors="surrogateescape")
    decoded, problems = decode_input(raw)
    if problems:
        first = problems[0]
        where = f" at {first.pointer}" if first.pointer else ""
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise CliError(f"--input is not acceptable{where}: {first.message}{more}")
    return decoded


def load_credentials(path: Path) -> dict[str, StoredCredential]:
    """The named credentials of a JSON file: ``{"name": {"type": ..., "fields": {...}}}``.

    Raises:
        CliError: The file cannot be read, is not JSON, or a credential is not of that shape
            (the message names the file and the credential).
    """
    import msgspec

    from wirehub.runtime import StoredCredential

    shown = str(path)
    try:
        document = msgspec.json.decode(read_file(path, "the credentials file"), type=dict[str, Any])
    except msgspec.DecodeError as exc:
        raise CliError(f"credentials file {shown!r} is not a JSON object of named credentials: {exc}") from exc
    except RecursionError as exc:
        raise CliError(f"credentials file {shown!r} nests too deeply to read") from exc
    credentials: dict[str, StoredCredential] = {}
    for name, value in document.items():
        try:
            credentials[name] = msgspec.convert(value, StoredCredential)
        except msgspec.ValidationError as exc:
            raise CliError(
                f'credentials file {shown!r}: credential {name!r} must be {{"type": "...", "fields": {{...}}}}: {exc}'
            ) from exc
    return credentials
