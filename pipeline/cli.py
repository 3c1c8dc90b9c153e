"""The `msg` command. Errors in the inputs end in one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import os
import pkgutil
import sys
from importlib import import_module

from pipeline import __version__
from pipeline.errors import InputError


def commands() -> list[str]:
    """Every module of pipeline/commands is a sub-command: adding one needs no edit here."""
    import pipeline.commands

    return [m.name for m in pkgutil.iter_modules(pipeline.commands.__path__)]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="msg",
        description="Regenerate, audit and publish the MSG semantic-grounding datasets "
        "(MSG-MCQ evaluation questions, MSG-Conv tuning conversations) from MS-COCO and "
        "Visual Genome annotations.",
    )
    p.add_argument("--version", action="version", version=f"msg {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in commands():
        import_module(f"pipeline.commands.{name}").add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = import_module(f"pipeline.commands.{args.command}")
    try:
        return command.run(args)
    except InputError as err:
        print(f"msg {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        # Point stdout at /dev/null so the flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"msg {args.command}: interrupted", file=sys.stderr)
        return 130
