"""The Score new borrowers page with crafted and signed models: a model file that segfaults
scikit-learn is refused on the page while the app lives on, and the page says signed or unsigned."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.config import RecoveryConfig
from core.pipeline import prepare
from core.serve import bundle as bundles
from core.serve import signing
from sample_data.generate import generate_portfolio
from tests.helpers import APP
from tests.serve.crafted import KEY, forge, objects_of

PAGE = "app_pages/score_new.py"


@pytest.fixture(scope="module")
def forest() -> bundles.Bundle:
    """The notebook's Random Forest on 300 borrowers, cut to 5 trees."""
    history, _ = generate_portfolio(n=300, seed=5)
    bundle, _ = bundles.train(prepare(history), RecoveryConfig.seed().with_(n_folds=2), "history.csv", "0" * 64)
    trees = bundle.model[-1]
    trees.estimators_, trees.n_estimators = trees.estimators_[:5], 5
    return bundle


def _crafted(forest: bundles.Bundle) -> bytes:
    objects = objects_of(forest)
    tree = objects["model"][-1].estimators_[0].tree_
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    nodes["left_child"][0] = nodes["right_child"][0] = 10**9
    tree.__setstate__({**state, "nodes": nodes})
    return forge(bundles.dumps(forest, key=None), objects=objects)


def _upload(at: AppTest, name: str, data: bytes) -> None:
    at.file_uploader(key="model_upload").upload(name, data, "application/zip")
    at.run()
    assert not at.exception, at.exception


def _captions(at: AppTest) -> str:
    return " ".join(c.value for c in at.caption)


def test_page_refuses_a_crafted_model_lives_on_and_says_signed_or_unsigned(forest, monkeypatch):
    monkeypatch.delenv(signing.ENV, raising=False)
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page(PAGE)  # straight to the page: the Overview would first analyse the demo
    at.run()
    _upload(at, "crafted.slr", _crafted(forest))
    assert any("tree 1 of the forest has a child index outside" in e.value for e in at.error)
    _upload(at, "forest.slr", bundles.dumps(forest))
    assert "Unsigned: no signing key is set here" in _captions(at)
    at.secrets[signing.ENV] = KEY.decode()
    _upload(at, "signed.slr", bundles.dumps(forest, key=KEY))
    assert "Signed: its signature matches this app's signing key" in _captions(at)
    _upload(at, "forest.slr", bundles.dumps(forest))  # unsigned, now that the app has a key
    assert any("is not signed, and this app scores only models signed with its key" in e.value for e in at.error)
