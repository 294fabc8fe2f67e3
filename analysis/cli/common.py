"""What the commands share: options, the ``--min-support`` type, opening the store, JSON output."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import click

from analysis import FaultlineError, Store, open_store
from analysis.cli.progress_bar import ProgressBar
from analysis.export import json_value

MSG_NO_STORE = ("There is no store at {path}: load logs into it with `python -m analysis ingest PATH --db {path}` "
                "(or build the demo there with `python -m analysis demo --db {path}`)")
MSG_SUPPORT_NOT_A_NUMBER = "expected a count (an integer >= 1) or a fraction in (0, 1), got {value!r}"
MSG_SUPPORT_COUNT_ONLY = "expected a count (an integer >= 1), got {value!r}"

F = Callable[..., object]


class MinSupport(click.ParamType):
    """``--min-support``: a count of examples (an integer >= 1) or, where the engine takes one, a fraction in (0, 1).

    ``"30"`` and ``"30.0"`` give the count ``30``; ``"0.01"`` gives the fraction ``0.01`` (only when
    ``fractions`` is true); anything else is a usage error (exit 2) naming the value.
    """

    name = "N"

    def __init__(self, *, fractions: bool) -> None:
        self.fractions = fractions
        if fractions:
            self.name = "N|FRACTION"

    def convert(self, value, param, ctx) -> int | float:
        if isinstance(value, bool):
            self.fail(self._message(value), param, ctx)
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(self._message(value), param, ctx)
        if number >= 1 and number.is_integer():
            return int(number)
        if self.fractions and 0 < number < 1:
            return number
        self.fail(self._message(value), param, ctx)

    def _message(self, value) -> str:
        return (MSG_SUPPORT_NOT_A_NUMBER if self.fractions else MSG_SUPPORT_COUNT_ONLY).format(value=value)


SUPPORT_COUNT = MinSupport(fractions=False)
"""``--min-support`` where a count only is taken (the report spec's slice table)."""
SUPPORT_COUNT_OR_FRACTION = MinSupport(fractions=True)
"""``--min-support`` where the engine takes a count or a fraction of the examples (slices, compare, gate, discover,
link: :func:`analysis.slicing.params.support_count`)."""


def split_list(ctx, param, value: str | None) -> list[str] | None:
    """A comma-separated option as a list of its non-empty, stripped items (``None`` when not given)."""
    if not value:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


ENGINE_KEY = "faultline.engine"


def _remember_engine(ctx: click.Context, param, value: str | None) -> str | None:
    if value:
        ctx.meta[ENGINE_KEY] = value
    return value


def db_option(f: F) -> F:
    """``--db`` (the store) and ``--engine`` (where statements over example rows run; read by :func:`open_cli_store`)."""
    f = click.option("--engine", type=click.Choice(["duckdb", "spark"], case_sensitive=False), expose_value=False,
                     callback=_remember_engine, is_eager=True,
                     help="where statements over example rows run (the catalog stays in DuckDB); "
                          "default $FAULTLINE_ENGINE or duckdb; spark: local[2], or Spark Connect at "
                          "$FAULTLINE_SPARK_REMOTE")(f)
    return click.option("--db", metavar="DB",
                        help="the store (a DuckDB file); default $FAULTLINE_DB or data/faultline.duckdb")(f)


def json_option(help: str = "print JSON") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def by_option(help: str) -> Callable[[F], F]:
    return click.option("--by", callback=split_list, metavar="ATTR,...", help=help)


def max_order_option(default: int, help: str = "largest conjunction") -> Callable[[F], F]:
    return click.option("--max-order", type=click.IntRange(1, 3), default=default, show_default=True, help=help)


def min_support_option(default: int | float = 30, *, fractions: bool = False,
                       help: str = "slices smaller than this are reported, not tested") -> Callable[[F], F]:
    return click.option("--min-support", type=SUPPORT_COUNT_OR_FRACTION if fractions else SUPPORT_COUNT,
                        default=default, show_default=True, help=help)


def fdr_option(f: F) -> F:
    return click.option("--fdr", type=float, default=0.05, show_default=True,
                        help="false discovery rate for Benjamini-Hochberg")(f)


def bins_option(f: F) -> F:
    return click.option("--bins", type=int, default=5, show_default=True,
                        help="quantile bins for numeric attributes")(f)


def slicing_options(min_support: int | float = 30, *, fractions: bool = True,
                    min_support_help: str = "slices smaller than this are reported, not tested") -> Callable[[F], F]:
    """The options of every slicing command: ``--db --min-support --fdr --bins --json``."""

    def decorate(f: F) -> F:
        for option in (json_option(), bins_option, fdr_option,
                       min_support_option(min_support, fractions=fractions, help=min_support_help), db_option):
            f = option(f)
        return f

    return decorate


MSG_WHERE_AND_COHORT = "give --where or --cohort, not both"


def cohort_options(f: F) -> F:
    """``--where TEXT`` (a cohort in the rule language) and ``--cohort NAME`` (a saved cohort); see :func:`where_of`."""
    f = click.option("--cohort", metavar="NAME", help="restrict the analysis to a saved cohort (see: cohorts list)")(f)
    return click.option("--where", metavar="CONDITION",
                        help='restrict the analysis to a cohort, e.g. \'language = "sw" and not is_refusal\'')(f)


def where_of(store: Store, where: str | None, cohort: str | None) -> str | None:
    """The cohort condition of ``--where`` or of the saved ``--cohort`` (None for every example).

    Raises
    ------
    click.UsageError
        Both options given (:data:`MSG_WHERE_AND_COHORT`).
    FaultlineError
        No saved cohort of that name.
    """
    if where and cohort:
        raise click.UsageError(MSG_WHERE_AND_COHORT)
    if cohort:
        from analysis.slicing.cohorts import get_cohort

        return get_cohort(store, cohort).predicate
    return where or None


def open_cli_store(db: str | None, *, create: bool = False) -> Store:
    """The store named by ``--db`` (never seeded), or the default store (seeded with the demo the first time).

    A ``--db`` path that holds no file is an error (:data:`MSG_NO_STORE`, exit 2) unless ``create``
    (commands that load data): a mistyped path must not leave an empty store behind.
    Seeding the default store is long work: it shows the progress bar. ``--engine`` (when the
    command has it) chooses where statements over example rows run.
    """
    if db and not create and not os.path.exists(db):
        raise FaultlineError(MSG_NO_STORE.format(path=db))
    ctx = click.get_current_context(silent=True)
    engine = ctx.meta.get(ENGINE_KEY) if ctx is not None else None
    with ProgressBar() as progress:
        return open_store(db, seed_demo=False if db else None, progress=progress, engine=engine)


def echo_json(value, **kwargs) -> None:
    """``value`` as indented JSON on stdout (``default=str`` for dates and the like unless told otherwise)."""
    click.echo(json.dumps(value, indent=2, **{"default": str, **kwargs}))


def echo_listing(frame, *, as_json: bool, empty: str, line) -> None:
    """Print an append-only listing (cohorts, findings): JSON records (times as text), ``empty`` when there is
    nothing, else ``line(row)`` per row (``line`` may return several lines as one text)."""
    if as_json:
        echo_json([json_value(r) for r in frame.assign(created_at=[str(t) for t in frame["created_at"]])
                   .to_dict("records")], ensure_ascii=False)
    elif frame.empty:
        click.echo(empty)
    else:
        for row in frame.itertuples():
            click.echo(line(row))
