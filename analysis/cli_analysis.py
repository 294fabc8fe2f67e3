"""Analysis commands of the CLI (slices, discovery, comparison...), added as they are built."""

from __future__ import annotations


def add_commands(sub, add_db) -> None:
    """Register analysis sub-commands (none yet beyond the store's)."""


def run(args) -> int:
    raise SystemExit(f"unknown command {args.command}")
