"""Shared test setup: tests/ on sys.path (for `from fakeserver import ...`) and the fake server."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

# litellm must never fetch its price map from the network in tests.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from fakeserver import FakeOpenAIServer  # noqa: E402


@pytest.fixture
def fake_server():
    """A started FakeOpenAIServer on 127.0.0.1 (random port); stopped after the test."""
    server = FakeOpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()
