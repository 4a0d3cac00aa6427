"""Saved models: trained once on a history, they score new borrowers without retraining, and a
tampered, truncated, foreign or dangerous file is refused with one line."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from core.config import SEED_STRATEGIES, RecoveryConfig
from core.data import load_portfolio
from core.decide import DEFAULT_ACTIONS
from core.errors import RecoveryError
from core.pipeline import prepare
from core.report import to_csv_bytes
from core.serve import bundle as bundles
from core.serve import score as scoring
from sample_data.generate import generate_portfolio
from tests.helpers import cli

ADDED = ["Borrower_Segment", "Segment_Name", "Risk_Score", "Predicted_High_Risk", "Recovery_Strategy",
         "Risk_Reasons", "Outstanding_At_Risk"]


@pytest.fixture(scope="module")
def saved(trained) -> bytes:
    return bundles.dumps(trained)


@pytest.fixture(scope="module")
def new_month() -> pd.DataFrame:
    """Next month's book: 200 borrowers, a third of them without an outcome yet."""
    frame, _ = generate_portfolio(n=200, seed=77)
    frame.loc[frame.index[::3], "Recovery_Status"] = np.nan
    return frame


def _rezip(data: bytes, manifest: dict | None = None, payload: bytes | None = None) -> bytes:
    """The bundle with its manifest and/or payload replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(bundles.MANIFEST, json.dumps(manifest) if manifest else source.read(bundles.MANIFEST))
        archive.writestr(bundles.PAYLOAD, payload if payload is not None else source.read(bundles.PAYLOAD))
    return out.getvalue()


def _refusal(data: bytes) -> str:
    with pytest.raises(RecoveryError) as caught:
        bundles.loads(data, "model.slr")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_saved_model_scores_new_borrowers_as_before_saving(trained, saved, new_month):
    loaded = bundles.loads(saved, "model.slr")
    before = scoring.score_rows(trained, new_month)
    after = scoring.score_rows(loaded, new_month)
    pd.testing.assert_frame_equal(before.table, after.table)
    table = after.table
    assert len(table) == 200
    assert table["Risk_Score"].notna().all()  # borrowers without an outcome are scored too
    assert table["Risk_Score"].between(0, 1).all()
    assert list(table.columns[:1]) == ["File_Row"] and set(ADDED) <= set(table.columns)
    assert set(table["Recovery_Strategy"]) <= set(SEED_STRATEGIES)
    assert set(table["Segment_Name"]) <= set(trained.manifest["segments"]["names"].values())
    assert table["Risk_Reasons"].str.len().gt(10).all()
    assert after.strategies["Borrowers"].sum() == 200


def test_manifest_says_what_was_trained_on_what(saved, demo_frame):
    manifest = bundles.loads(saved, "model.slr").manifest
    assert manifest["training_file"] == {"name": "history.csv", "sha256": "0" * 64, "rows": 600,
                                         "rows_with_outcome": 600}
    assert manifest["versions"]["scikit-learn"] == sklearn_version()
    assert manifest["columns"]["Days_Past_Due"] == "repayment"
    assert manifest["columns"]["Recovery_Status"] == "outcome"
    assert manifest["model"]["calibrated"] is True
    assert 0.6 < manifest["metrics"]["out_of_fold"]["roc_auc"]["value"] < 1
    assert set(manifest["profile"]["fields"]) >= {"Days_Past_Due", "Loan_Type", "Monthly_Income"}
    summary = scoring.manifest_summary(manifest).set_index("Item")["Value"]
    assert summary["Training file"] == "history.csv"
    assert summary["Borrowers in training (with outcome)"] == "600 (600)"


def sklearn_version() -> str:
    import sklearn
    return sklearn.__version__


@pytest.mark.parametrize("config", [RecoveryConfig(), RecoveryConfig.seed(),
                                    RecoveryConfig().with_(actions=DEFAULT_ACTIONS, haircuts=(("Home", 0.4),))])
def test_every_setting_survives_the_manifest(config):
    text = json.dumps(bundles.config_to_dict(config))
    assert bundles.config_from_dict(json.loads(text)) == config


def test_a_setting_from_a_newer_version_is_refused():
    values = {**bundles.config_to_dict(RecoveryConfig()), "column_roles_v9": []}
    with pytest.raises(RecoveryError, match="column_roles_v9"):
        bundles.config_from_dict(values)


def test_flipped_byte_is_refused(saved):
    middle = len(saved) // 2
    flipped = saved[:middle] + bytes([saved[middle] ^ 0x01]) + saved[middle + 1:]
    assert "damaged" in _refusal(flipped) or "changed" in _refusal(flipped)


def test_changed_payload_with_old_manifest_is_refused(saved, trained):
    other = sio.dumps({"segmenter": trained.segmenter, "model": trained.model, "extra": 1})
    message = _refusal(_rezip(saved, payload=other))
    assert "SHA-256 does not match" in message


def test_truncated_file_is_refused(saved):
    assert "damaged or truncated" in _refusal(saved[: len(saved) - 200])


@pytest.mark.parametrize("dump", [
    lambda obj, f: pickle.dump(obj, f),
    lambda obj, f: joblib.dump(obj, f),
    lambda obj, f: joblib.dump(obj, f, compress=3),
])
def test_renamed_pickle_or_joblib_file_is_never_unpickled(trained, dump, tmp_path):
    path = tmp_path / "model.slr"
    with open(path, "wb") as f:
        dump(trained.model, f)
    assert "pickle or joblib" in _refusal(path.read_bytes())


def test_zip_bomb_is_refused_before_unpacking(saved):
    # declare a 4 GB member in the central directory: refused on the declared size alone
    at = saved.index(b"PK\x01\x02")
    bomb = saved[:at + 24] + (0xFFFFFFF0).to_bytes(4, "little") + saved[at + 28:]
    assert "would unpack to" in _refusal(bomb)


def test_bundle_from_other_library_versions_is_refused(saved):
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(saved)).read(bundles.MANIFEST))
    manifest["versions"]["scikit-learn"] = "1.0.2"
    message = _refusal(_rezip(saved, manifest=manifest))
    assert f"scikit-learn 1.0.2 (this app runs {sklearn_version()})" in message


class Intruder:
    """A type the product never writes."""

    def __init__(self):
        self.payload = "anything"


def test_untrusted_types_are_refused(saved):
    payload = sio.dumps({"segmenter": Intruder(), "model": Intruder()})
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(saved)).read(bundles.MANIFEST))
    manifest["model_sha256"] = __import__("hashlib").sha256(payload).hexdigest()
    message = _refusal(_rezip(saved, manifest=manifest, payload=payload))
    assert "tests.serve.test_bundle.Intruder" in message


def test_not_a_bundle_is_refused():
    assert "not a model bundle" in _refusal(b"Borrower_ID,Age\n1,30\n")
    assert "empty" in _refusal(b"")


def test_seed_model_saves_and_scores(demo_frame, new_month):
    model, _ = bundles.train(prepare(demo_frame), RecoveryConfig.seed(), "history.csv", "0" * 64)
    loaded = bundles.loads(bundles.dumps(model), "seed.slr")
    table = scoring.score_rows(loaded, new_month).table
    assert set(table["Segment_Name"]) <= {"Moderate Income, High Loan Burden", "High Income, Low Default Risk",
                                          "Moderate Income, Medium Risk", "High Loan, Higher Default Risk"}
    assert table["Risk_Score"].between(0, 1).all()


def test_missing_field_the_model_needs_is_named(trained, new_month):
    with pytest.raises(RecoveryError, match=r"Days past due \(Days_Past_Due\)"):
        scoring.score_rows(trained, new_month.drop(columns=["Days_Past_Due"]), "june.csv")


def test_cli_trains_then_scores_without_retraining(tmp_path, new_month):
    history, _ = generate_portfolio(n=500, seed=4)
    history_csv, new_csv = tmp_path / "history.csv", tmp_path / "june.csv"
    history.to_csv(history_csv, index=False)
    new_month.to_csv(new_csv, index=False)
    model_path, out = tmp_path / "model.slr", tmp_path / "scored.csv"
    run = cli("train", history_csv, "-o", model_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Trained Additive gradient boosting") and "500 borrowers" in run.stdout
    run = cli("score", new_csv, "--model", model_path, "-o", out)
    assert run.returncode == 0, run.stderr
    assert "Scored 200 borrowers with the saved model model.slr" in run.stdout
    # the file the CLI wrote is, byte for byte, what the engine gives in process with the same model
    loaded = bundles.loads(model_path.read_bytes(), "model.slr")
    rows = load_portfolio(new_csv.read_bytes(), "june.csv").frame
    assert out.read_bytes() == to_csv_bytes(scoring.score_rows(loaded, rows).table)
    manifest = loaded.manifest
    assert manifest["training_file"]["sha256"] == __import__("hashlib").sha256(history_csv.read_bytes()).hexdigest()


def test_cli_refuses_a_bad_model_in_one_line(tmp_path, new_month):
    new_csv = tmp_path / "june.csv"
    new_month.to_csv(new_csv, index=False)
    fake = tmp_path / "model.slr"
    fake.write_bytes(pickle.dumps({"a": 1}))
    run = cli("score", new_csv, "--model", fake, "-o", tmp_path / "out.csv")
    assert run.returncode == 2
    assert run.stderr.startswith("error: model.slr is a pickle or joblib file") and run.stderr.count("\n") == 1
    run = cli("score", new_csv, "--model", "boosting", "-o", tmp_path / "out.csv")
    assert run.returncode == 2 and "not a model kind" in run.stderr
