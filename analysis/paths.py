"""Where Faultline's own files are: the project folder and its ``data/`` folder."""

from __future__ import annotations

from pathlib import Path

#: The project folder (the one holding ``analysis/``, ``app.py`` and ``data/``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Bundled data (the embedding model, the demo objective spec) and, by default, the store.
DATA_DIR = PROJECT_ROOT / "data"
