"""Puts this directory on sys.path so the tests can `from _patch_helpers import ...`
(the suite runs with --import-mode=importlib, which does not do that itself)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
