"""The CLI's adapter of the engine's progress callback."""

from __future__ import annotations

import sys


class ProgressLine:
    """A progress line on stderr: rewritten in place on a terminal, one line per step otherwise."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last = None

    def __call__(self, fraction: float, message: str) -> None:
        text = f"[{fraction * 100:5.1f}%] {message}"
        if self.tty:
            self.stream.write("\r" + text.ljust(78)[:78])
            if fraction >= 1.0:
                self.stream.write("\n")
        elif message != self.last:
            self.stream.write(text + "\n")
        self.last = message
        self.stream.flush()
