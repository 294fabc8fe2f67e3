"""Progress reporting: one callback protocol for every long piece of engine work.

The engine calls ``progress(fraction, message)`` as work goes on; the app adapts it to a
progress bar, the CLI to one progress line on stderr. The engine never prints.
"""

from __future__ import annotations

from typing import Protocol


class ProgressCallback(Protocol):
    """Called with the fraction done (in [0, 1]) and a short message saying what is being done."""

    def __call__(self, fraction: float, message: str, /) -> None: ...


def report_progress(progress: ProgressCallback | None, fraction: float, message: str) -> None:
    """Call ``progress`` (when given) with ``fraction`` clipped to [0, 1].

    >>> seen = []
    >>> report_progress(lambda f, m: seen.append((f, m)), 1.5, "done")
    >>> report_progress(None, 0.5, "nobody listens")
    >>> seen
    [(1.0, 'done')]
    """
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)


def scaled(progress: ProgressCallback | None, start: float, end: float) -> ProgressCallback:
    """A callback mapping [0, 1] of a sub-task onto [start, end] of ``progress``.

    >>> seen = []
    >>> scaled(lambda f, m: seen.append(f), 0.5, 1.0)(0.5, "half of the second half")
    >>> seen
    [0.75]
    """

    def sub(fraction: float, message: str) -> None:
        report_progress(progress, start + (end - start) * fraction, message)

    return sub
