"""``demo``: build the bundled demo runs into a store."""

from __future__ import annotations

import click

from analysis import open_store
from analysis.cli import EXIT_OK
from analysis.cli.common import db_option
from analysis.cli.progress_bar import ProgressBar
from analysis.demo.seed import demo_series_truth_path, demo_truth_path, ensure_demo, ensure_demo_series


@click.command()
@db_option
@click.option("--n-prompts", type=int, default=20_000, show_default=True, help="prompts per run")
@click.option("--seed", type=int, default=7, show_default=True, help="random seed of the generator")
@click.option("--series", "series", is_flag=True,
              help="also build the demo series: six checkpoints (3,000 prompts) with a planted over-optimisation, "
                   "a slow drift and a mix shift (series 'rlhf-checkpoints')")
def demo(db: str | None, n_prompts: int, seed: int, series: bool) -> int:
    """Build the bundled demo (two seeded runs of 20,000 prompts) into a store."""
    with open_store(db, seed_demo=False) as store:
        with ProgressBar() as progress:
            built = ensure_demo(store, progress=progress, n_prompts=n_prompts, seed=seed)
        click.echo(("Built the demo runs into " if built else "The store already has runs or was seeded: ")
                   + f"{store.path} (truth: {demo_truth_path(store)})")
        if series:
            with ProgressBar() as progress:
                built = ensure_demo_series(store, progress=progress)
            click.echo(("Built the demo series 'rlhf-checkpoints' into " if built else
                        "The store already has the demo series: ") + f"{store.path} "
                       f"(truth: {demo_series_truth_path(store)})")
    return EXIT_OK
