"""The CLI's adapter of the engine's :class:`~analysis.progress.ProgressCallback`: one ``tqdm`` bar on stderr."""

from __future__ import annotations

import sys
from typing import IO

from tqdm import tqdm

BAR_FORMAT = "{percentage:5.1f}%|{bar:24}| {elapsed} {desc}"
"""What the bar shows: the fraction done, the bar, the time spent and the engine's message."""


class ProgressBar:
    """A :class:`~analysis.progress.ProgressCallback` that draws one ``tqdm`` bar on stderr.

    The bar appears on the first call (work that reports no progress shows nothing) and is
    closed by :meth:`close` or at the end of a ``with`` block: full when the block ends
    normally (the work is done even if its last report said less), where it stopped when it
    ends with an error. stdout stays clean for the command's output (``--json`` included). A
    fraction smaller than the last one (a new phase of the work) moves the bar back.

    >>> import io
    >>> out = io.StringIO()
    >>> with ProgressBar(file=out) as progress:
    ...     progress(0.5, "half")
    ...     progress(1.0, "done")
    >>> "100.0%|" in out.getvalue() and "done" in out.getvalue()
    True
    """

    def __init__(self, *, file: IO[str] | None = None) -> None:
        self._file = file
        self._bar: tqdm | None = None

    def __call__(self, fraction: float, message: str, /) -> None:
        if self._bar is None:
            self._bar = tqdm(total=1.0, desc=message, file=self._file if self._file is not None else sys.stderr,
                             bar_format=BAR_FORMAT, dynamic_ncols=True, leave=True)
        bar = self._bar
        bar.set_description_str(message, refresh=False)
        if fraction < bar.n:
            bar.n = fraction
            bar.refresh()
        else:
            bar.update(fraction - bar.n)

    def close(self, *, finished: bool = False) -> None:
        """Draw the bar's last state (full when ``finished``) and end its line; nothing if it never appeared."""
        if self._bar is not None:
            if finished and self._bar.n < 1.0:
                self._bar.update(1.0 - self._bar.n)
            self._bar.close()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self.close(finished=exc_type is None)
