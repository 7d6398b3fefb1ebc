"""The `formcheck` command line. Errors are caught once here: a FormcheckError prints its
one-line message and exits non-zero; Ctrl-C exits 130 after the session saved its results."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console

from formcheck.errors import FormcheckError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Camera-based form checker for runners' ankle drills.")
console = Console(stderr=True)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logging.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


# Commands live in their own modules and register themselves on `app` when imported.
from formcheck import commands  # noqa: F401


def main() -> None:
    try:
        app()
    except FormcheckError as exc:
        console.print(f"[bold red]formcheck:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.print("formcheck: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
