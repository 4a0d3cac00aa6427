"""What the saved-model tests share: one model trained on the demo history per test process.

Tests must treat it as read-only, as the session fixtures in tests/conftest.py.
"""

from __future__ import annotations

import os
import signal

import pytest

from core.config import RecoveryConfig
from core.pipeline import prepare
from core.serve import batch, signing
from core.serve import bundle as bundles


@pytest.fixture(scope="session")
def trained(demo_frame) -> bundles.Bundle:
    """The recommended model trained on the 600-borrower demo history."""
    model, _ = bundles.train(prepare(demo_frame), RecoveryConfig(), "history.csv", "0" * 64)
    return model


@pytest.fixture(scope="module")
def saved(trained) -> bytes:
    """That model's bundle as written without a signing key (a module may bring its own ``saved``)."""
    return bundles.dumps(trained, key=None) if signing.signing_key() is None else pytest.skip("a key is set")


@pytest.fixture
def killed_on_second_chunk(monkeypatch) -> list:
    """batch.score_rows made to SIGKILL a forked worker on its second chunk; the list counts calls in this process."""
    real, calls = batch.score_rows, []

    def dies_on_its_second_chunk(*args, **kwargs):  # runs in the forked workers only
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "score_rows", dies_on_its_second_chunk)
    return calls
