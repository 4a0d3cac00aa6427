"""What the saved-model tests share: one model trained on the demo history per test process.

Tests must treat it as read-only, as the session fixtures in tests/conftest.py.
"""

from __future__ import annotations

import pytest

from core.config import RecoveryConfig
from core.pipeline import prepare
from core.serve import bundle as bundles
from core.serve import signing


@pytest.fixture(scope="session")
def trained(demo_frame) -> bundles.Bundle:
    """The recommended model trained on the 600-borrower demo history."""
    model, _ = bundles.train(prepare(demo_frame), RecoveryConfig(), "history.csv", "0" * 64)
    return model


@pytest.fixture(scope="module")
def saved(trained) -> bytes:
    """That model's bundle as written without a signing key (a module may bring its own ``saved``)."""
    return bundles.dumps(trained, key=None) if signing.signing_key() is None else pytest.skip("a key is set")
