"""``faultline`` (or ``python -m analysis``): the engine, headless, for CI pipelines and terminals.

The only part of Faultline that reads argv, prints and sets exit codes. One module per command;
a command's module (and the engine modules it needs: UMAP for ``clusters``, plotly and WeasyPrint
for ``report``) is imported only when that command runs, so ``--help`` stays fast.

Exit status: 0 on success, 1 when a regression gate fails (``gate``), 2 on an error: a usage error,
or a :class:`~analysis.errors.FaultlineError` reported as one line on stderr that says what is wrong.
Anything unexpected (an error no adapter turned into a sentence) is reported the same way, exit 2,
never as a traceback (``FAULTLINE_DEBUG=1`` shows it).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence

import click

from analysis._version import __version__
from analysis.errors import FaultlineError

__all__ = ["EXIT_ERROR", "EXIT_GATE_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "COMMANDS", "faultline", "main"]

EXIT_OK = 0
"""The command did what it was asked."""
EXIT_GATE_FAILED = 1
"""A regression gate failed (``gate``): the command worked, the candidate did not pass."""
EXIT_ERROR = 2
"""An error: a usage error, bad input, a store in use... (one line on stderr says what)."""
EXIT_INTERRUPTED = 130
"""Interrupted with Ctrl-C (128 + SIGINT, as shells report it)."""

MSG_INTERRUPTED = "interrupted: nothing was changed by the unfinished command"
DEBUG_ENV_VAR = "FAULTLINE_DEBUG"
"""Set to 1 to see the traceback of an unexpected error instead of its one-line message."""
MSG_TOO_DEEP = ("the input is nested too deeply to read (lists or objects inside each other hundreds of times); "
                "expected a few levels")
MSG_OUT_OF_MEMORY = ("ran out of memory; expected an input that fits in memory. Use a smaller file, or lower the "
                     "limits (FAULTLINE_MAX_FIELD_MB, FAULTLINE_MAX_DOCUMENT_MB, FAULTLINE_MAX_ARCHIVE_MB)")
MSG_OS_ERROR = "could not read or write{where}: {reason}. Nothing was committed by the failed command."
MSG_DATABASE_ERROR = "the store's database reported an error: {detail}. Nothing was committed by the failed command."
MSG_UNEXPECTED = (f"an unexpected error ({{kind}}: {{detail}}). This is a fault in Faultline: please report it with "
                  f"the command that caused it (set {DEBUG_ENV_VAR}=1 to see the traceback)")

COMMANDS: dict[str, tuple[str, str]] = {
    "ingest": ("analysis.cli.ingest:ingest", "load evaluation logs into the store"),
    "register": ("analysis.cli.register:register", "register Parquet files as a run that stays in place (no copy)"),
    "runs": ("analysis.cli.runs:runs", "list the runs in the store"),
    "demo": ("analysis.cli.demo:demo", "build the demo runs into a store"),
    "slices": ("analysis.cli.slices:slices", "error rate per slice with intervals and q-values"),
    "compare": ("analysis.cli.compare:compare", "paired per-slice comparison of two runs"),
    "gate": ("analysis.cli.gate:gate", "fail (exit 1) when a slice regresses beyond the allowed drop"),
    "discover": ("analysis.cli.discover:discover", "find problematic slices automatically (SliceLine)"),
    "clusters": ("analysis.cli.clusters:clusters", "cluster the texts of a run and test each cluster like a slice"),
    "link": ("analysis.cli.link:link", "link failure modes to the objective components they implicate"),
    "annotations": ("analysis.cli.annotations:annotations", "list or export researchers' annotations"),
    "annotate": ("analysis.cli.annotations:annotate", "label an example or a slice with a failure mode and/or a note"),
    "withdraw": ("analysis.cli.annotations:withdraw", "withdraw an annotation (it stops counting; both are kept)"),
    "report": ("analysis.cli.report:report", "write the audit report (PDF and/or HTML)"),
    "reports": ("analysis.cli.report:reports", "list the report history"),
    "series": ("analysis.cli.series:series", "create, list and show series of runs (checkpoints, releases)"),
    "cohorts": ("analysis.cli.cohorts:cohorts", "list, save or show cohorts (named filters: --cohort NAME)"),
    "findings": ("analysis.cli.findings:findings", "list, add (pin), withdraw or export findings"),
}
"""Every command: its name -> (``module:attribute`` of its click command, the one-line help of the listing)."""


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command is used.

    The listing of ``--help`` comes from :data:`COMMANDS` without importing anything.
    """

    def __init__(self, *args, lazy: dict[str, tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.lazy) + [name for name in super().list_commands(ctx) if name not in self.lazy]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, attribute = self.lazy[cmd_name][0].split(":")
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"],
                                                              "max_content_width": 110},
             epilog="Exit status: 0 ok, 1 a failed gate, 2 an error. Help on a command: COMMAND --help.")
@click.version_option(__version__, "--version", message="Faultline %(version)s")
def faultline() -> None:
    """Faultline: stratified error analysis of model evaluations."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: ``sys.argv[1:]``) and return the exit status.

    0 ok, 1 a failed gate, 2 an error (usage errors included), 130 interrupted. Errors are one
    line on stderr, never a traceback.
    """
    try:
        code = faultline.main(args=None if argv is None else list(argv), standalone_mode=False)
    except click.ClickException as err:
        err.show()
        return EXIT_ERROR
    except click.Abort:
        click.echo(MSG_INTERRUPTED, err=True)
        return EXIT_INTERRUPTED
    except FaultlineError as err:
        click.echo(f"error: {err}", err=True)
        return EXIT_ERROR
    except Exception as err:  # the boundary: anything unexpected is a sentence and exit 2, never a traceback
        if os.environ.get(DEBUG_ENV_VAR, "0") not in ("", "0"):
            raise
        click.echo(f"error: {unexpected_message(err)}", err=True)
        return EXIT_ERROR
    return EXIT_OK if code is None else int(code)


def unexpected_message(err: BaseException) -> str:
    """A plain sentence for an error no part of Faultline turned into one (what, then what to do).

    >>> unexpected_message(OSError(28, "No space left on device", "/data/store.duckdb"))
    'could not read or write /data/store.duckdb: No space left on device. Nothing was committed by the failed command.'
    """
    if isinstance(err, RecursionError):
        return MSG_TOO_DEEP
    if isinstance(err, MemoryError):
        return MSG_OUT_OF_MEMORY
    if isinstance(err, OSError) and err.strerror:
        where = f" {err.filename}" if err.filename else ""
        return MSG_OS_ERROR.format(where=where, reason=err.strerror)
    text = str(err).strip()
    first = text.splitlines()[0] if text else "no detail"
    if len(first) > 300:
        first = first[:300] + "..."
    if type(err).__module__.lstrip("_").startswith("duckdb"):
        return MSG_DATABASE_ERROR.format(detail=first)
    return MSG_UNEXPECTED.format(kind=type(err).__name__, detail=first)
