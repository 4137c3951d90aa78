"""``wirehub validate FILE``: every problem of a definition, each with its JSON pointer."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import msgspec

from wirehub.engine import pin_versions, validate_definition
from wirehub.runtime import default_registry


@click.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option(
    "--pin",
    is_flag=True,
    help="When valid, print the definition with each step's node-type version recorded (configs migrated).",
)
def validate_command(file: Path, as_json: bool, pin: bool) -> None:
    """Check a workflow definition; exit 1 when it has problems."""
    source = file.read_bytes()
    report = validate_definition(source, default_registry())
    if pin and report.plan is not None:
        pinned = pin_versions(msgspec.json.decode(source), report.plan.steps)
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(pinned)).decode() + "\n")
    elif as_json:
        problems = [{"pointer": p.pointer, "code": p.code, "message": p.message} for p in report.problems]
        sys.stdout.write(msgspec.json.encode({"valid": not report.problems, "problems": problems}).decode() + "\n")
    elif report.problems:
        click.echo(f"{file}: {len(report.problems)} problem(s)", err=True)
        for problem in report.problems:
            click.echo(f"  {problem.pointer or '/'}: {problem.message} [{problem.code}]", err=True)
    else:
        click.echo(f"{file}: valid")
    sys.exit(1 if report.problems else 0)
