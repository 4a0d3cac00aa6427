"""Saved models cannot crash or fool the service: crafted .slr files built from real ones are refused in
one line (a strict manifest schema, a hash over everything that decides a score, checked fitted
objects, a child process for the first load, signatures), and a model file is never half-written."""

from __future__ import annotations

import copy
import errno
import io
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans
from sklearn.dummy import DummyClassifier

from core.__main__ import main as cli_main
from core.config import RecoveryConfig
from core.errors import RecoveryError
from core.pipeline import prepare
from core.serve import bundle as bundles
from core.serve import isolation, signing
from core.serve import manifest as manifests
from core.serve import score as scoring
from sample_data.generate import generate_portfolio
from tests.serve.crafted import KEY, OTHER_KEY, forge, objects_of, parts, zipped


@pytest.fixture(autouse=True)
def _no_key_from_the_machine(monkeypatch):
    """Each test says whether a signing key is set; none leaks in from the environment."""
    monkeypatch.delenv(signing.ENV, raising=False)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    frame, _ = generate_portfolio(n=300, seed=5)
    return frame


def _train(history: pd.DataFrame, config: RecoveryConfig) -> bundles.Bundle:
    return bundles.train(prepare(history), config, "history.csv", "0" * 64)[0]


@pytest.fixture(scope="module")
def additive(history) -> bundles.Bundle:
    """The recommended model: additive boosting, calibrated."""
    return _train(history, RecoveryConfig(n_folds=2))


@pytest.fixture(scope="module")
def forest(history) -> bundles.Bundle:
    """The notebook's Random Forest, cut to its first 5 trees so that each crafted copy loads fast."""
    bundle = _train(history, RecoveryConfig.seed().with_(n_folds=2))
    trees = bundle.model[-1]
    trees.estimators_, trees.n_estimators = trees.estimators_[:5], 5
    return bundle


@pytest.fixture(scope="module")
def logistic(history) -> bundles.Bundle:
    return _train(history, RecoveryConfig(model="logistic", n_folds=2))


@pytest.fixture(scope="module")
def logistic_saved(logistic) -> bytes:
    return bundles.dumps(logistic)


@pytest.fixture(scope="module")
def saved(additive) -> bytes:
    os.environ.pop(signing.ENV, None)
    return bundles.dumps(additive)


@pytest.fixture(scope="module")
def new_rows() -> pd.DataFrame:
    frame, _ = generate_portfolio(n=60, seed=8)
    return frame


def _refusal(data: bytes, **options) -> str:
    with pytest.raises(RecoveryError) as caught:
        bundles.loads(data, "model.slr", **options)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# ------------------------------------------------------------------------------ 1. the manifest's schema


def _set(manifest: dict, path: str, value) -> dict:
    """The manifest with the value at a dotted path replaced."""
    out = copy.deepcopy(manifest)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[int(last) if isinstance(node, list) else last] = value
    return out


VARIANTS = {
    # (path, value) -> words the refusal must say
    "null config section": ("config", None, "config: is nothing (null) where a table goes"),
    "number where the model section goes": ("model", 7, "model: is a number where a table goes"),
    "text where the segments table goes": ("segments", "segments", "segments: is text where a table goes"),
    "list where the explain table goes": ("explain", [], "explain: is a list where a table goes"),
    "null profile": ("profile", None, "profile: is nothing (null)"),
    "text calibration": ("model.calibration", "0.5", "model.calibration: is text where a table goes"),
    "text slope": ("model.calibration.slope", "1.1", "model.calibration.slope: is text where a number goes"),
    "text where the field list goes": ("model.numeric", "Age", "model.numeric: is text where a list goes"),
    "segment names as a list": ("segments.names", ["a", "b"], "segments.names: is a list where a table goes"),
    "segment order not an order": ("segments.relabel", [0, 1, 1, 3], "segments.relabel: is not an order"),
    "typical values as text": ("explain.typical", "typical", "explain.typical: is text where a table goes"),
    "reference as a table": ("explain.reference.Age", {"a": 1}, "explain.reference.Age: is a table where a list"),
    "segments count as text": ("config.n_segments", "4", "config.n_segments: is text where a whole number goes"),
    "roles as a number": ("config.roles", 5, "config.roles: is a number where a table goes"),
    "an unknown setting": ("config.column_roles_v9", [], "column_roles_v9: is a setting this version does not know"),
    "null field profile": ("profile.fields.Age", None, "profile.fields.Age: is nothing (null) where a table goes"),
    "versions as a list": ("versions", [], "versions: is a list where a table goes"),
    "threshold as true": ("config.legal_threshold", True, "config.legal_threshold: is true/false where a number"),
    "profile shares too few": ("profile.Risk_Score.shares", [0.5], "profile.Risk_Score.shares: has 1 entries"),
    "metric as text": ("metrics.out_of_fold.roc_auc.value", "high", "roc_auc.value: is text where a number"),
    "model hash not a hash": ("model_sha256", "abc", "model_sha256: is not a SHA-256"),
    "a section of its own": ("extra_section", {}, "extra_section: is not part of a bundle this app writes"),
    "huge field name": ("model.label", "x" * 5000, "model.label: is 5,000 characters, over the 1,000"),
}


@pytest.mark.parametrize("variant", list(VARIANTS), ids=list(VARIANTS))
def test_manifest_that_breaks_the_schema_is_refused_in_one_line(saved, variant):
    path, value, words = VARIANTS[variant]
    manifest, payload = parts(saved)
    message = _refusal(zipped(json.dumps(_set(manifest, path, value)).encode(), payload))
    assert "has a manifest this app never writes" in message
    assert words in message


@pytest.mark.parametrize("raw, words", [
    (b"[" * 100_000, "nested 100,000 levels deep"),
    (b'{"format": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001, "nested 100,001 levels deep"),
    (b"[]", "not a model bundle of this app"),
    (b"7", "not a model bundle of this app"),
    (b'"text"', "not a model bundle of this app"),
    (b"null", "not a model bundle of this app"),
    (b"\xff\xfe{}", "damaged manifest (not UTF-8 JSON)"),
    (b'{"format": "smart-loan-recovery-bundle/2", "format": "x"}', "repeats a key (format: is given twice)"),
    (b'{"format": ' + b"9" * 5000 + b"}", "damaged manifest"),
    (b"{" * 10, "damaged manifest"),
], ids=["100k brackets", "100k nested tables", "a list", "a number", "text", "null", "not utf-8", "repeated key",
        "5000-digit number", "unclosed"])
def test_malformed_manifest_is_refused_without_parsing_it_deeply(saved, raw, words):
    _, payload = parts(saved)
    assert words in _refusal(zipped(raw, payload))


def test_brackets_inside_text_do_not_count_as_nesting():
    assert manifests.depth(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "b": ["\\"]]]]"]}') == 2


def test_non_finite_calibration_is_refused(saved):
    manifest, payload = parts(saved)
    text = json.dumps(manifest).replace(f'"slope": {json.dumps(manifest["model"]["calibration"]["slope"])}',
                                        '"slope": 1e400')
    assert "model.calibration.slope: is inf, not a finite number" in _refusal(zipped(text.encode(), payload))


def test_manifest_over_the_size_limit_is_refused_before_it_is_read(saved, monkeypatch):
    monkeypatch.setattr(manifests, "MAX_MANIFEST_BYTES", 1000)
    assert "bytes, over the 1,000 bytes a bundle's may be" in _refusal(saved)
    assert "bytes, over the 1,000 bytes" in _refusal_of_manifest(b"[" + b"0," * 600 + b"0]")


def _refusal_of_manifest(raw: bytes) -> str:
    with pytest.raises(RecoveryError) as caught:
        bundles.read_manifest(raw, "model.slr")
    return str(caught.value)


# the manifest reader under fuzzing: any bytes, or a real manifest with any JSON value put anywhere,
# give a manifest or one RecoveryError line, never another exception
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _paths(value, prefix=()) -> list[tuple]:
    """Every place in a JSON value (bounded per list, so the fuzzer reaches every section)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value[:3]):
            found += _paths(inner, (*prefix, i))
    return found


def _read(raw: bytes) -> None:
    try:
        bundles.read_manifest(raw, "model.slr")
    except RecoveryError as error:
        assert "\n" not in str(error)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(raw=st.binary(max_size=300))
def test_fuzzed_bytes_never_escape_the_manifest_reader(raw):
    _read(raw)
    _read(b'{"format": "smart-loan-recovery-bundle/2", ' + raw)


@pytest.fixture(scope="module")
def real_manifest(saved) -> dict:
    """The saved manifest with its long quantile lists cut to 5 points (a tenth of the bytes to fuzz)."""
    manifest = parts(saved)[0]
    manifest["explain"]["reference"] = {k: v[::250] for k, v in manifest["explain"]["reference"].items()}
    bundles.read_manifest(json.dumps(manifest).encode())  # still a manifest the reader takes
    return manifest


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data(), value=json_values)
def test_fuzzed_manifests_never_escape_the_manifest_reader(real_manifest, data, value):
    paths = _paths(real_manifest)[1:]
    path = data.draw(st.sampled_from(paths))
    manifest = copy.deepcopy(real_manifest)
    node = manifest
    for key in path[:-1]:
        node = node[key]
    if data.draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    _read(json.dumps(manifest).encode())


def test_the_products_own_manifest_passes_its_schema(saved, forest_saved, logistic_saved):
    for data in (saved, forest_saved, logistic_saved):
        manifest = bundles.read_manifest(_zip_manifest(data), "model.slr")
        assert manifest["format"] == bundles.FORMAT


def _zip_manifest(data: bytes) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(bundles.MANIFEST)


# ------------------------------------------------------------------------------ 2. everything under the hash


@pytest.mark.parametrize("path, value", [
    ("model.calibration.slope", 3.0),
    ("model.calibration.intercept", -2.0),
    ("config.legal_threshold", 0.9),
    ("config.strategy_labels", ["Call", "Write", "Wait"]),
    ("segments.names.0", "Best borrowers"),
    ("explain.typical.Age", 99.0),
], ids=["slope", "intercept", "legal threshold", "strategy labels", "segment name", "typical value"])
def test_editing_what_decides_a_score_is_refused(saved, path, value):
    manifest, payload = parts(saved)
    edited = _set(manifest, path, value)
    message = _refusal(zipped(json.dumps(edited, indent=1).encode(), payload))
    assert "has been changed since it was saved" in message and "content SHA-256" in message


def test_the_saved_file_still_scores_as_before_saving(additive, saved, new_rows):
    before = scoring.score_rows(additive, new_rows).table
    loaded = bundles.loads(saved, "model.slr")
    pd.testing.assert_frame_equal(scoring.score_rows(loaded, new_rows).table, before)
    assert loaded.signed is False
    assert loaded.manifest[manifests.CONTENT_HASH] == manifests.content_digest(loaded.manifest, parts(saved)[1])


def test_a_bundle_of_the_earlier_format_is_refused(saved):
    manifest, payload = parts(saved)
    manifest["format"] = "smart-loan-recovery-bundle/1"
    assert "saved by an earlier version of this app" in _refusal(zipped(json.dumps(manifest).encode(), payload))


# ------------------------------------------------------------------------------ 3. fitted objects and roles


@pytest.fixture(scope="module")
def forest_saved(forest) -> bytes:
    return bundles.dumps(forest)


@pytest.fixture(scope="module")
def crafted(forest, forest_saved) -> bytes:
    """The forest's first tree with children pointing far outside its node array (segfaults sklearn)."""
    objects = objects_of(forest)
    tree = objects["model"][-1].estimators_[0].tree_
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    nodes["left_child"][0] = nodes["right_child"][0] = 10**9
    tree.__setstate__({**state, "nodes": nodes})
    return forge(forest_saved, objects=objects)


def test_tree_children_outside_the_node_array_are_refused_before_any_prediction(crafted):
    message = _refusal(crafted)
    assert "tree 1 of the forest has a child index outside its" in message and "not loaded" in message


def test_the_crafted_tree_crashes_unchecked_sklearn_and_the_child_dies_not_this_process(crafted):
    # the child loads it as the app did before the checks (skops, allowed types) and predicts: a
    # segmentation fault, reported here as one line while this process goes on
    with pytest.raises(RecoveryError) as caught:
        isolation.check_in_child(crafted, "crafted.slr", entry="tests.serve.unchecked_bundle_child")
    message = str(caught.value)
    assert message.startswith("crafted.slr crashed the process that tried it (SIGSEGV)") and "\n" not in message


def test_a_child_that_hangs_is_stopped_and_refused(saved):
    with pytest.raises(RecoveryError, match=r"hang took more than 1 s to load and score test borrowers"):
        isolation.check_in_child(saved, "hang", timeout=1, entry="tests.serve.unchecked_bundle_child")


def _tree_edit(forest, **fields):
    objects = objects_of(forest)
    tree = objects["model"][-1].estimators_[2].tree_
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    for name, value in fields.items():
        nodes[name][0] = value
    tree.__setstate__({**state, "nodes": nodes})
    return objects


def _edit(bundle, change):
    objects = objects_of(bundle)
    change(objects)
    return objects


@pytest.mark.parametrize("case, words", [
    ("dummy model", "the risk model is a DummyClassifier where this app writes a AdditiveBoostingClassifier"),
    ("narrow k-means", "the segmenter's K-Means is 3 field(s) wide, but the segments use 10 field(s)"),
    ("bare k-means", "the segmenter is a KMeans where this app writes a Pipeline"),
    ("k-means with too few centres", "has 3 centres for 4 named segments"),
    ("k-means centre not finite", "the segmenter's K-Means centres holds numbers that are not finite"),
    ("k-means thread count", "asks for an impossible number of threads"),
    ("curve with NaN", "the curve of 'Age' holds numbers that are not finite"),
    ("curve too short", "the curve of 'Age' has shape"),
    ("categories repeated", "are not distinct sorted texts"),
    ("bin edges unsorted", "the bin edges of 'Age' are not increasing"),
    ("booster child out of range", "booster tree 1 has a child index outside"),
    ("model is the segmenter", "the risk model is a Pipeline where this app writes a AdditiveBoostingClassifier"),
    ("extra object", "does not hold exactly a segmenter and a model"),
])
def test_additive_bundle_with_a_wrong_or_broken_part_is_refused(additive, saved, history, case, words):
    segment_fields = additive.manifest["segments"]["features"]

    def narrow(o):
        o["segmenter"].steps[-1] = ("kmeans", KMeans(4, n_init=1, random_state=0).fit(
            np.random.default_rng(0).normal(size=(50, 3))))

    def fewer(o):
        km = o["segmenter"][-1]
        km.cluster_centers_, km.n_clusters = km.cluster_centers_[:3], 3

    def booster(o):
        nodes = o["model"].booster_._predictors[0][0].nodes
        nodes["left"][0] = 10**6

    changes = {
        "dummy model": lambda o: o.update(model=DummyClassifier().fit(history[["Age"]], [0, 1] * 150)),
        "narrow k-means": narrow,
        "bare k-means": lambda o: o.update(segmenter=o["segmenter"][-1]),
        "k-means with too few centres": fewer,
        "k-means centre not finite": lambda o: o["segmenter"][-1].cluster_centers_.__setitem__((0, 0), np.nan),
        "k-means thread count": lambda o: setattr(o["segmenter"][-1], "_n_threads", 100_000),
        "curve with NaN": lambda o: o["model"].curves_["Age"].__setitem__(0, np.nan),
        "curve too short": lambda o: o["model"].curves_.__setitem__("Age", o["model"].curves_["Age"][:-3]),
        "categories repeated": lambda o: o["model"].codes_.categories_.__setitem__(
            "Loan_Type", np.repeat(o["model"].codes_.categories_["Loan_Type"], 2)),
        "bin edges unsorted": lambda o: o["model"].codes_.edges_.__setitem__(
            "Age", o["model"].codes_.edges_["Age"][::-1].copy()),
        "booster child out of range": booster,
        "model is the segmenter": lambda o: o.update(model=o["segmenter"]),
        "extra object": lambda o: o.update(extra=o["segmenter"]),
    }
    assert len(segment_fields) == 10
    message = _refusal(forge(saved, objects=_edit(additive, changes[case])))
    assert words in message and "It is not loaded" in message


@pytest.mark.parametrize("case, words", [
    ("feature index", "splits on a field index outside its 10 fields"),
    ("threshold", "has thresholds that are not finite"),
    ("leaf pointing back", "has a child index outside"),
    ("parallel jobs", "the forest's parallel jobs is 64, where this app writes 1"),
    ("tree count", "does not hold the trees it declares"),
    ("class count", "the forest's number of classes is 1000000000000, where this app writes 2"),
    ("logistic in the forest's place", "LogisticRegression where this app writes a RandomForestClassifier"),
])
def test_forest_bundle_with_a_broken_part_is_refused(forest, forest_saved, logistic, case, words):
    changes = {
        "feature index": lambda: _tree_edit(forest, feature=10),
        "threshold": lambda: _tree_edit(forest, threshold=np.inf),
        "leaf pointing back": lambda: _tree_edit(forest, left_child=0, right_child=0),
        "parallel jobs": lambda: _edit(forest, lambda o: setattr(o["model"][-1], "n_jobs", 64)),
        "tree count": lambda: _edit(forest, lambda o: o["model"][-1].estimators_.pop()),
        "class count": lambda: _edit(forest, lambda o: setattr(o["model"][-1], "n_classes_", 10**12)),
        "logistic in the forest's place": lambda: _edit(forest, lambda o: o.update(model=copy.deepcopy(logistic.model))),
    }
    assert words in _refusal(forge(forest_saved, objects=changes[case]()))


@pytest.mark.parametrize("case, words", [
    ("infinite coefficient", "the logistic model's coefficients holds numbers that are not finite"),
    ("coefficients too wide", "the logistic model's coefficients has shape (1, 25), not (1, 24)"),
    ("scale zero", "the numeric scaler's scales are not all positive"),
])
def test_logistic_bundle_with_a_broken_part_is_refused(logistic, logistic_saved, case, words):
    def wide(o):
        o["model"][-1].coef_ = np.zeros((1, o["model"][-1].coef_.shape[1] + 1))

    changes = {
        "infinite coefficient": lambda o: o["model"][-1].coef_.__setitem__((0, 0), np.inf),
        "coefficients too wide": wide,
        "scale zero": lambda o: o["model"][0].transformers_[0][1][-1].scale_.__setitem__(0, 0.0),
    }
    assert words in _refusal(forge(logistic_saved, objects=_edit(logistic, changes[case])))


def test_manifest_naming_another_model_kind_than_its_settings_is_refused(saved):
    manifest, _ = parts(saved)
    manifest["model"]["kind"] = "random_forest"
    assert "is not the one its settings train" in _refusal(forge(saved, manifest=manifest))


# ------------------------------------------------------------------------------ 5. signed bundles


@pytest.fixture(scope="module")
def signed(additive) -> bytes:
    return bundles.dumps(additive, key=KEY)


def test_signed_bundle_loads_with_its_key_and_scores_the_same(signed, saved, new_rows):
    loaded = bundles.loads(signed, "model.slr", key=KEY)
    assert loaded.signed is True
    unsigned = bundles.loads(saved, "model.slr")
    pd.testing.assert_frame_equal(scoring.score_rows(loaded, new_rows).table,
                                  scoring.score_rows(unsigned, new_rows).table)


def test_with_a_key_an_unsigned_bundle_is_refused(saved):
    assert "model.slr is not signed, and this app scores only models signed with its key" in _refusal(saved, key=KEY)


def test_a_bundle_signed_with_another_key_is_refused(signed):
    message = _refusal(signed, key=OTHER_KEY)
    assert f"signed with another key (key id '{signing.key_id(KEY)}'" in message


def test_any_edited_byte_of_a_signed_bundle_is_refused(signed):
    positions = sorted({*range(0, len(signed), 257), *range(len(signed) - 400, len(signed))})
    for at in positions:
        edited = signed[:at] + bytes([signed[at] ^ 0x20]) + signed[at + 1:]
        message = _refusal(edited, key=KEY)
        assert any(words in message for words in ("changed since it was signed", "is not signed",
                                                  "signed with another key", "not a model bundle")), (at, message)


def test_without_a_key_a_signed_bundle_loads_as_unsigned(signed):
    assert bundles.loads(signed, "model.slr").signed is False


def test_the_environment_key_signs_and_checks(additive, monkeypatch):
    monkeypatch.setenv(signing.ENV, KEY.decode())
    data = bundles.dumps(additive)
    assert signing.signature(data) is not None
    assert bundles.loads(data, "model.slr").signed is True
    monkeypatch.setenv(signing.ENV, OTHER_KEY.decode())
    assert "signed with another key" in _refusal(data)


def test_a_short_key_is_refused_in_one_line(saved, monkeypatch):
    monkeypatch.setenv(signing.ENV, "secret")
    assert "is 6 byte(s): use at least 16 random characters" in _refusal(saved)


def _cli(capsys, *args) -> tuple[int, str, str]:
    """The command line in this process (argv in; exit status, stdout and stderr out)."""
    code = cli_main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_train_signs_and_score_checks_the_signature(history, tmp_path, monkeypatch, capsys):
    history_csv, model = tmp_path / "history.csv", tmp_path / "model.slr"
    history.head(200).to_csv(history_csv, index=False)
    monkeypatch.setenv(signing.ENV, KEY.decode())
    code, _, err = _cli(capsys, "train", history_csv, "-o", model)
    assert code == 0, err
    assert signing.signature(model.read_bytes()) is not None
    assert sorted(os.listdir(tmp_path)) == ["history.csv", "model.slr"]  # no temporary left beside it
    code, out, err = _cli(capsys, "score", history_csv, "--model", model, "-o", tmp_path / "scored.csv")
    assert code == 0, err
    assert "Scored 200 borrowers with the saved model model.slr" in out
    monkeypatch.setenv(signing.ENV, OTHER_KEY.decode())
    code, _, err = _cli(capsys, "score", history_csv, "--model", model, "-o", tmp_path / "other.csv")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: model.slr was signed with another key")
    assert not (tmp_path / "other.csv").exists()


def test_cli_refuses_a_crafted_model_in_one_line_after_the_child_tried_it(crafted, tmp_path, new_rows, capsys):
    model, rows = tmp_path / "model.slr", tmp_path / "june.csv"
    model.write_bytes(crafted)
    new_rows.to_csv(rows, index=False)
    code, _, err = _cli(capsys, "score", rows, "--model", model, "-o", tmp_path / "out.csv")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: model.slr is not a model this app wrote: tree 1 of the forest has a child index")


# ------------------------------------------------------------------------------ 6. crash-safe write


def test_save_writes_the_whole_file_and_nothing_else(saved, tmp_path):
    target = tmp_path / "model.slr"
    bundles.save(target, saved)
    assert target.read_bytes() == saved
    assert os.listdir(tmp_path) == ["model.slr"]


def test_a_failed_write_leaves_the_existing_model_untouched(saved, tmp_path, monkeypatch):
    target = tmp_path / "model.slr"
    target.write_bytes(b"the model saved last month")

    def full_disk(_):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(RecoveryError, match=r"^Cannot write .*model\.slr: the disk is full\. Free some space"):
        bundles.save(target, saved)
    assert target.read_bytes() == b"the model saved last month"
    assert os.listdir(tmp_path) == ["model.slr"]


def test_an_interrupted_rename_leaves_no_temporary_behind(saved, tmp_path, monkeypatch):
    target = tmp_path / "model.slr"
    target.write_bytes(b"old")

    def interrupted(*_):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        bundles.save(target, saved)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.slr"]


def test_saving_into_a_missing_folder_is_one_line(saved, tmp_path):
    with pytest.raises(RecoveryError, match=r"^Cannot write .*nowhere/model\.slr: the folder .*nowhere does not exist\. Create it"):
        bundles.save(tmp_path / "nowhere" / "model.slr", saved)
