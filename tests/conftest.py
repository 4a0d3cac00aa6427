"""Shared engine fixtures: one demo portfolio, and each expensive analyse() run once per session.

Tests must treat every session fixture as read-only: copy a frame before changing it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from core.config import RecoveryConfig
from core.pipeline import RecoveryResult, analyse
from sample_data.generate import generate_portfolio


def analyse_one_thread(frame: pd.DataFrame, config: RecoveryConfig) -> RecoveryResult:
    """analyse() with OpenMP held to one thread.

    HistGradientBoosting's OpenMP threads spin when other processes hold the cores: on a busy
    2-core runner one fallback-target run took 110 s instead of 5 s. Results are unchanged.
    """
    with threadpool_limits(limits=1, user_api="openmp"):
        return analyse(frame, config)


@pytest.fixture(scope="session")
def run_analysis():
    """analyse() for tests that need their own run; see analyse_one_thread."""
    return analyse_one_thread

@pytest.fixture(scope="session")
def demo_frame() -> pd.DataFrame:
    """600 borrowers from the demo generator, IDs as text like a real upload."""
    df, _ = generate_portfolio(n=600, seed=11)
    df["Borrower_ID"] = df["Borrower_ID"].astype(str)
    df["Loan_ID"] = df["Loan_ID"].astype(str)
    return df


@pytest.fixture(scope="session")
def default_result(demo_frame) -> RecoveryResult:
    """The recommended config on the demo portfolio."""
    return analyse_one_thread(demo_frame, RecoveryConfig())


@pytest.fixture(scope="session")
def seed_result(demo_frame) -> RecoveryResult:
    """The notebook's method on the demo portfolio."""
    return analyse_one_thread(demo_frame, RecoveryConfig.seed())


@pytest.fixture(scope="session")
def known_portfolio() -> tuple[pd.DataFrame, np.ndarray]:
    """4000 borrowers and each one's true probability of not being fully recovered."""
    return generate_portfolio(n=4000, seed=3)


@pytest.fixture(scope="session")
def known_result(known_portfolio) -> RecoveryResult:
    """The recommended config on the known-probability portfolio."""
    return analyse_one_thread(known_portfolio[0], RecoveryConfig())


@pytest.fixture(scope="session")
def variant_frame(demo_frame) -> pd.DataFrame:
    """The demo portfolio without Collateral_Value, 30 outcomes not yet known, a filtered-looking index."""
    df = demo_frame.drop(columns=["Collateral_Value"])
    df.index = df.index * 10 + 7
    df.loc[df.index[::20], "Recovery_Status"] = np.nan
    return df


@pytest.fixture(scope="session")
def variant_result(variant_frame) -> RecoveryResult:
    """Written-off target on the variant frame; 3 folds keep it cheap (fold count is not under test)."""
    return analyse_one_thread(variant_frame, RecoveryConfig().with_(target="written_off", n_folds=3))


@pytest.fixture(scope="session")
def no_outcome_result(demo_frame) -> RecoveryResult:
    """A file without Recovery_Status: the engine must fall back to the segment flag."""
    return analyse_one_thread(demo_frame.drop(columns=["Recovery_Status"]), RecoveryConfig().with_(n_folds=3))



@pytest.fixture()
def fits(monkeypatch) -> dict[str, int]:
    """Count every model and K-Means fit, by class name."""
    counts: dict[str, int] = {}
    for cls in (HistGradientBoostingClassifier, RandomForestClassifier, LogisticRegression, KMeans):
        original = cls.fit

        def counted(self, *args, _original=original, _name=cls.__name__, **kwargs):
            counts[_name] = counts.get(_name, 0) + 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "fit", counted)
    return counts
