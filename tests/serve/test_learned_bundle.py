"""Learned action effects in a saved model: kept under the content hash, their trees checked before use."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from core.config import RecoveryConfig
from core.errors import RecoveryError
from core.pipeline import prepare
from core.serve import bundle as bundles
from sample_data.action_history import generate_history, new_month
from tests.serve.crafted import forge, objects_of


@pytest.fixture(scope="module")
def trained() -> tuple[bundles.Bundle, bytes]:
    history, _ = generate_history(800, seed=3)
    model, _ = bundles.train(prepare(history), RecoveryConfig(model="logistic", n_folds=2), "history.csv", "0" * 64)
    return model, bundles.dumps(model)


def test_saved_effects_predict_as_before_saving(trained):
    model, saved = trained
    loaded = bundles.loads(saved, "model.slr")
    month, _ = new_month(300, seed=4)
    assert loaded.effects.methods == model.effects.methods == ("Calls", "Debt Collectors", "Legal Notice",
                                                               "Settlement Offer")
    assert np.array_equal(loaded.effects.predict(month), model.effects.predict(month))
    assert loaded.manifest["effects"]["rows"] == {m: int(n) for m, n in model.effects.rows.items()}


def test_an_effects_tree_pointing_outside_its_nodes_is_refused(trained):
    model, saved = trained
    objects = objects_of(model)
    regressor = next(m for m in objects["effects"]["outcome"][0] if m is not None)
    tree = regressor._predictors[0][0]
    tree.nodes["left"][0] = 10**9
    with pytest.raises(RecoveryError, match=r"is not a model this app wrote: the action effects' outcome model 1 of "
                                            r"fold 1, tree 1 has a child index outside its"):
        bundles.loads(forge(saved, objects=objects), "model.slr")


def test_effects_without_their_manifest_section_are_refused(trained):
    model, saved = trained
    archive = zipfile.ZipFile(io.BytesIO(saved))
    manifest = json.loads(archive.read(bundles.MANIFEST))
    del manifest["effects"]
    with pytest.raises(RecoveryError, match="disagree on holding learned action effects"):
        bundles.loads(forge(saved, manifest=manifest), "model.slr")
    manifest = json.loads(archive.read(bundles.MANIFEST))
    manifest["effects"]["rows"]["Calls"] = -1
    with pytest.raises(RecoveryError, match=r"effects\.rows"):
        bundles.loads(forge(saved, manifest=manifest), "model.slr")
