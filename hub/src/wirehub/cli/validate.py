"""``wirehub validate FILE``: every problem of a definition, each with its JSON pointer."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from wirehub.cli.errors import load_settings
from wirehub.cli.files import read_file
from wirehub.cli.text import escape, json_text


@click.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.option(
    "--pin",
    is_flag=True,
    help="When valid, print the definition with each step's node-type version recorded (configs migrated).",
)
def validate_command(file: Path, as_json: bool, pin: bool) -> None:
    """Check a workflow definition; exit 1 when it has problems.

    Problems are printed with control characters escaped (``\\x1b``), so a
    definition cannot write to the terminal; ``--json`` prints them as they are.
    """
    import msgspec

    from wirehub.engine import pin_versions, validate_definition
    from wirehub.runtime import default_registry

    settings = load_settings()
    source = read_file(file, "the workflow file")
    report = validate_definition(source, default_registry(settings=settings))
    shown = escape(file)
    if pin and report.plan is not None:
        pinned = pin_versions(msgspec.json.decode(source), report.plan.steps)
        sys.stdout.write(json_text(pinned, pretty=True) + "\n")
    elif as_json:
        problems = [{"pointer": p.pointer, "code": p.code, "message": p.message} for p in report.problems]
        sys.stdout.write(json_text({"valid": not report.problems, "problems": problems}) + "\n")
    elif report.problems:
        click.echo(f"{shown}: {len(report.problems)} problem(s)", err=True)
        for problem in report.problems:
            click.echo(
                f"  {escape(problem.pointer or '/')}: {escape(problem.message)} [{escape(problem.code)}]", err=True
            )
    else:
        click.echo(f"{shown}: valid")
    sys.exit(1 if report.problems else 0)
