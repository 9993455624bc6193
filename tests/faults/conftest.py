"""Fixtures of the fault-injection suite: a seeded random source whose seed is printed."""

from __future__ import annotations

import os
import random

import pytest


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Random kill moments, reproducible: HAPPYFACE_FAULT_SEED=<seed> replays a failed run."""
    seed = int(os.environ.get("HAPPYFACE_FAULT_SEED", random.SystemRandom().randrange(2**32)))
    print(f"{request.node.nodeid}: HAPPYFACE_FAULT_SEED={seed}")  # shown when the test fails
    return random.Random(seed)
