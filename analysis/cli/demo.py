"""``demo``: build the bundled demo runs into a store."""

from __future__ import annotations

import click

from analysis import open_store
from analysis.cli import EXIT_OK
from analysis.cli.common import db_option
from analysis.cli.progress_bar import ProgressBar
from analysis.demo.seed import demo_truth_path, ensure_demo


@click.command()
@db_option
@click.option("--n-prompts", type=int, default=20_000, show_default=True, help="prompts per run")
@click.option("--seed", type=int, default=7, show_default=True, help="random seed of the generator")
def demo(db: str | None, n_prompts: int, seed: int) -> int:
    """Build the bundled demo (two seeded runs of 20,000 prompts) into a store."""
    with open_store(db, seed_demo=False) as store:
        with ProgressBar() as progress:
            built = ensure_demo(store, progress=progress, n_prompts=n_prompts, seed=seed)
        click.echo(("Built the demo runs into " if built else "The store already has runs or was seeded: ")
                   + f"{store.path} (truth: {demo_truth_path(store)})")
    return EXIT_OK
