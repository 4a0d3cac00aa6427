"""Scoring with a saved model fast: chunks on two workers, drift only when asked, the model check done once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from core.__main__ import main
from core.errors import RecoveryError
from core.report import to_csv_bytes
from core.serve import batch, drift, isolation
from core.serve import bundle as bundles
from sample_data.generate import generate_portfolio
from tests.serve.crafted import damaged_for_zlib, tampered

KEY = b"k" * 32


@pytest.fixture(scope="module")
def june(tmp_path_factory) -> Path:
    """400 borrowers, CRLF here and there, two blank records in the middle, no outcome for some."""
    frame, _ = generate_portfolio(n=400, seed=5)
    frame["Recovery_Status"] = frame["Recovery_Status"].astype(object)
    frame.loc[frame.index[::4], "Recovery_Status"] = None
    lines = frame.to_csv(index=False).encode().replace(b"\n", b"\r\n", 40)
    at = lines.index(b"\n", len(lines) // 2) + 1
    path = tmp_path_factory.mktemp("speed") / "june.csv"
    path.write_bytes(lines[:at] + b"\n,,,\n" + lines[at:])
    return path


def test_two_workers_write_the_same_bytes_and_drift_as_one(trained, june, tmp_path):
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    counts_one, counts_two = drift.DriftCounts(trained.manifest["profile"]), drift.DriftCounts(trained.manifest["profile"])
    done_one = batch.stream_score(trained, june, one, chunk_bytes=6000, workers=1, drift=counts_one)
    done_two = batch.stream_score(trained, june, two, chunk_bytes=6000, workers=2, drift=counts_two)
    assert (done_two.workers, done_two.scored, done_two.chunks) == (2, 400, done_one.chunks) and done_one.chunks > 5
    assert two.read_bytes() == one.read_bytes() == to_csv_bytes(batch.one_piece(trained, june))
    assert done_two.strategies == done_one.strategies
    pd.testing.assert_frame_equal(counts_two.table(), counts_one.table())
    assert counts_one.table()["psi"].notna().all() and len(counts_one.table()) > 5


def test_without_drift_nothing_is_counted_and_no_drift_is_said(trained, saved, june, tmp_path, capsys, monkeypatch):
    model = tmp_path / "m.slr"
    model.write_bytes(saved)

    def counted(*_args, **_kwargs):
        raise AssertionError("drift counted without --drift")

    monkeypatch.setattr(drift.DriftCounts, "add", counted)
    assert main(["score", str(june), "--model", str(model), "-o", str(tmp_path / "a.csv"), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Scored 400 borrowers with the saved model m.slr") and "Drift:" not in captured.err
    monkeypatch.undo()
    report = tmp_path / "drift.csv"
    assert main(["score", str(june), "--model", str(model), "-o", str(tmp_path / "b.csv"), "--workers", "1",
                 "--drift", str(report)]) == 0
    assert "Drift: " in capsys.readouterr().err
    assert (tmp_path / "b.csv").read_bytes() == (tmp_path / "a.csv").read_bytes()
    assert "Risk_Score" in pd.read_csv(report)["field"].tolist()


def test_the_remembered_verdict_still_refuses_a_crafted_bundle_without_a_second_child(saved, monkeypatch):
    crafted = tampered(saved)
    runs = []
    real_run = subprocess.run

    def counting(*args, **kwargs):
        runs.append(args)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(isolation.subprocess, "run", counting)
    isolation.check_in_child(saved, "good.slr")
    isolation.check_in_child(saved, "good again.slr")  # same bytes: the verdict this process has
    with pytest.raises(RecoveryError, match=r"^crafted\.slr has been changed since it was saved"):
        isolation.check_in_child(crafted, "crafted.slr")
    with pytest.raises(RecoveryError, match=r"^again\.slr has been changed since it was saved") as caught:
        isolation.check_in_child(crafted, "again.slr")  # remembered, under the name given now
    assert "\n" not in str(caught.value)
    assert len(runs) <= 2  # at most one child per distinct bundle (none if an earlier test checked it)
    with pytest.raises(RecoveryError, match="has been changed since it was saved"):
        bundles.loads(crafted, "crafted.slr", isolated=True)  # and never loaded here either


def test_a_bundle_damaged_inside_its_compressed_model_is_refused_in_one_line_not_a_traceback(saved):
    # zlib's own error is no OSError: the member reader still refuses it in one line naming the member
    with pytest.raises(RecoveryError, match=r"^damaged\.slr is damaged: its member model\.skops cannot be "
                                            r"read \(Error -3 ") as caught:
        bundles.loads(damaged_for_zlib(saved), "damaged.slr", isolated=True)
    assert "\n" not in str(caught.value)


def test_a_check_started_early_is_joined_not_repeated(saved, monkeypatch):
    other = bundles.dumps(bundles.loads(saved), key=None)  # bytes this process has no verdict for
    runs = []
    real_run = subprocess.run
    monkeypatch.setattr(isolation.subprocess, "run", lambda *a, **k: runs.append(a) or real_run(*a, **k))
    isolation.start_check(other, "m.slr")
    isolation.start_check(other, "m.slr")
    assert bundles.loads(other, "m.slr", isolated=True).manifest["segments"] == bundles.loads(saved).manifest["segments"]
    assert len(runs) == 1  # started twice, loaded once: one child


def test_a_bundle_signed_with_the_key_skips_the_child_and_an_unsigned_one_is_refused(trained, saved, monkeypatch):
    def no_child(*_args, **_kwargs):
        raise AssertionError("child started for a signed bundle")

    signed = bundles.dumps(trained, key=KEY)
    monkeypatch.setattr(isolation, "check_in_child", no_child)
    loaded = bundles.loads(signed, "model.slr", key=KEY, isolated=True)
    assert loaded.signed is True
    with pytest.raises(RecoveryError, match="model.slr is not signed"):
        bundles.loads(saved, "model.slr", key=KEY, isolated=True)


def test_a_worker_killed_mid_run_is_one_line_and_the_old_output_stays(trained, june, tmp_path, killed_on_second_chunk):
    out = tmp_path / "scored.csv"
    out.write_bytes(b"last month's result")
    with pytest.raises(RecoveryError, match=r"^A process scoring june\.csv stopped before it finished") as caught:
        batch.stream_score(trained, june, out, chunk_bytes=6000, workers=2)
    assert "\n" not in str(caught.value) and killed_on_second_chunk == []
    assert out.read_bytes() == b"last month's result"
    assert [p.name for p in tmp_path.iterdir()] == ["scored.csv"]
