"""Streamed by workers, a saved model is built and tried only in them: this process never deserialises it.

The refusals stay those of the isolated check: the same lines for a file the checks that build
nothing refuse, one line naming the signal for a crash while a worker builds, no output left.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import time
from pathlib import Path

import pytest

from core import __main__ as cli_main
from core.errors import RecoveryError
from core.report import to_csv_bytes
from core.serve import batch, isolation
from core.serve import bundle as bundles
from tests.helpers import portfolio_file
from tests.serve.crafted import damaged_for_zlib, tampered

KEY = b"k" * 32


@pytest.fixture(scope="module")
def july(tmp_path_factory) -> Path:
    return portfolio_file(tmp_path_factory.mktemp("load") / "july.csv", n=300, seed=8)


@pytest.fixture(scope="module")
def expected(trained, july) -> bytes:
    return to_csv_bytes(batch.one_piece(trained, july))


def _no_child(monkeypatch) -> None:
    def refused(*_args, **_kwargs):
        raise AssertionError("an isolated child was started")

    monkeypatch.setattr(isolation.subprocess, "run", refused)


def test_workers_build_the_model_and_this_process_never_does(saved, july, expected, tmp_path, monkeypatch):
    real, built_here = bundles.Unbuilt.build, []
    parent = os.getpid()

    def spied(self):
        if os.getpid() == parent:
            built_here.append(1)
        return real(self)

    monkeypatch.setattr(bundles.Unbuilt, "build", spied)
    _no_child(monkeypatch)
    unbuilt = bundles.audit(saved, "m.slr")
    out = tmp_path / "scored.csv"
    done = batch.stream_score(unbuilt, july, out, chunk_bytes=20000, workers=2)
    assert (done.scored, done.workers) == (300, 2) and done.chunks > 2
    assert out.read_bytes() == expected and built_here == []
    assert unbuilt.manifest == bundles.loads(saved).manifest


def test_an_unbuilt_model_is_never_scored_in_this_process(saved, july, tmp_path):
    with pytest.raises(ValueError, match="built only in worker processes"):
        batch.stream_score(bundles.audit(saved, "m.slr"), july, tmp_path / "o.csv", workers=1)
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("how", ["tampered", "pickle", "not a zip"])
def test_the_checks_that_build_nothing_refuse_in_the_isolated_checks_words(saved, how):
    data = {"tampered": tampered(saved), "pickle": b"\x80\x04K\x01.", "not a zip": b"Loan_ID,Age\n"}[how]
    with pytest.raises(RecoveryError) as isolated:
        bundles.check_bytes(data, "m.slr")  # what the isolated child runs and prints
    with pytest.raises(RecoveryError) as audited:
        bundles.audit(data, "m.slr")
    assert str(audited.value) == str(isolated.value) and "\n" not in str(audited.value)


def test_a_broken_deflate_stream_is_refused_in_one_line_naming_the_member(saved):
    damaged = damaged_for_zlib(saved)  # zlib's own error, not the zip's CRC
    with pytest.raises(RecoveryError) as caught:
        bundles.audit(damaged, "m.slr")
    with pytest.raises(RecoveryError) as isolated:
        bundles.check_bytes(damaged, "m.slr")  # what the isolated child runs and prints
    assert str(caught.value).startswith("m.slr is damaged: its member model.skops cannot be read (Error -3 ")
    assert str(caught.value).endswith("Save the model again, or use the original file.")
    assert str(caught.value) == str(isolated.value) and "\n" not in str(caught.value)


def test_what_escapes_the_checks_is_refused_in_one_line_not_a_traceback(saved, monkeypatch):
    def unforeseen(data, name):
        raise IndexError("list index out of range")  # an error no check of ours names

    monkeypatch.setattr(bundles, "_audit", unforeseen)
    with pytest.raises(RecoveryError) as caught:
        bundles.audit(saved, "m.slr")
    assert str(caught.value) == ("m.slr could not be loaded and tried (IndexError): it is not loaded. Use the file "
                                 "as saved, or train again.")


def test_with_a_key_the_signature_is_checked_before_anything_else(trained, saved, monkeypatch):
    monkeypatch.setenv("LOAN_RECOVERY_SIGNING_KEY", KEY.decode())
    with pytest.raises(RecoveryError, match="^m.slr is not signed"):
        bundles.audit(saved, "m.slr")
    assert bundles.audit(bundles.dumps(trained), "m.slr").signed is True


def _crashing_build(monkeypatch, how: str = "segfault") -> None:
    def build(self):  # runs in the forked workers only
        if how == "segfault":
            faulthandler.disable()  # the test runner's, inherited: the crash is the point, not its stack
            os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(30)

    monkeypatch.setattr(bundles.Unbuilt, "build", build)


def test_a_model_that_crashes_a_worker_is_refused_in_one_line_and_no_output_is_left(saved, july, tmp_path,
                                                                                     monkeypatch):
    _crashing_build(monkeypatch)
    out = tmp_path / "scored.csv"
    out.write_bytes(b"last month's result")
    with pytest.raises(RecoveryError, match=r"^m\.slr crashed the process that tried it \(SIGSEGV\) and is not "
                                            "loaded: it is damaged or crafted") as caught:
        batch.stream_score(bundles.audit(saved, "m.slr"), july, out, chunk_bytes=6000, workers=2)
    assert "\n" not in str(caught.value) and os.getpid() > 0  # this process lives on
    assert [p.name for p in tmp_path.iterdir()] == ["scored.csv"] and out.read_bytes() == b"last month's result"


def test_a_model_that_hangs_a_worker_is_refused_after_the_timeout(saved, july, tmp_path, monkeypatch):
    _crashing_build(monkeypatch, "hang")
    real = isolation.build_here
    monkeypatch.setattr(isolation, "build_here", lambda build, name: real(build, name, timeout=1))
    with pytest.raises(RecoveryError, match=r"^m\.slr took more than \d+ s to load and score test borrowers"):
        batch.stream_score(bundles.audit(saved, "m.slr"), july, tmp_path / "o.csv", chunk_bytes=6000, workers=2)
    assert list(tmp_path.iterdir()) == []


def test_a_file_with_no_rows_still_has_its_model_tried(saved, july, tmp_path, monkeypatch):
    header = tmp_path / "empty.csv"
    header.write_bytes(july.read_bytes().split(b"\n", 1)[0] + b"\n")
    _crashing_build(monkeypatch)
    with pytest.raises(RecoveryError, match=r"^m\.slr crashed the process that tried it"):
        batch.stream_score(bundles.audit(saved, "m.slr"), header, tmp_path / "o.csv", workers=2)


def test_a_refusal_while_a_worker_builds_is_the_same_line(saved, july, tmp_path, monkeypatch):
    def refused(bundle, name):
        raise RecoveryError(f"{name} scores its test borrowers outside 0-1: it is not loaded.")

    monkeypatch.setattr(bundles.fitted, "probe", refused)
    with pytest.raises(RecoveryError, match=r"^m\.slr scores its test borrowers outside 0-1: it is not loaded\.$"):
        batch.stream_score(bundles.audit(saved, "m.slr"), july, tmp_path / "o.csv", chunk_bytes=6000, workers=2)
    assert list(tmp_path.iterdir()) == []


def test_a_worker_killed_after_its_model_is_built_is_the_old_message(saved, july, tmp_path, killed_on_second_chunk):
    with pytest.raises(RecoveryError, match=r"^A process scoring july\.csv stopped before it finished"):
        batch.stream_score(bundles.audit(saved, "m.slr"), july, tmp_path / "o.csv", chunk_bytes=6000, workers=2)


def test_the_memory_bound_refuses_a_build_that_maps_too_much_in_one_line():
    with pytest.raises(RecoveryError, match=r"^m\.slr needs more memory to load than a model bundle may"):
        isolation.build_here(lambda: bytearray(512 * 1024**2), "m.slr", limit=128 * 1024**2)
    assert len(bytearray(512 * 1024**2)) > 0  # the bound is lifted again


def test_cli_with_two_workers_starts_no_child_and_writes_the_same_bytes(saved, july, expected, tmp_path,
                                                                         monkeypatch, capsys):
    model, out = tmp_path / "m.slr", tmp_path / "out.csv"
    model.write_bytes(saved)
    _no_child(monkeypatch)
    code = cli_main.main(["score", str(july), "--model", str(model), "-o", str(out), "--workers", "2",
                          "--chunk-bytes", "6000"])
    assert code == 0 and out.read_bytes() == expected
    assert capsys.readouterr().out.startswith("Scored 300 borrowers with the saved model m.slr")


def test_cli_with_two_workers_refuses_a_crashing_model_with_exit_2(saved, july, tmp_path, monkeypatch, capsys):
    model, out = tmp_path / "m.slr", tmp_path / "out.csv"
    model.write_bytes(saved)
    _crashing_build(monkeypatch)
    code = cli_main.main(["score", str(july), "--model", str(model), "-o", str(out), "--workers", "2"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: m.slr crashed the process that tried it (SIGSEGV)")
    assert err.count("\n") == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["m.slr"]


def test_the_early_guess_matches_the_streaming_rule(tmp_path):
    big, small, model = tmp_path / "big.csv", tmp_path / "small.csv", tmp_path / "m.slr"
    with open(big, "wb") as handle:
        handle.truncate(batch.PARALLEL_FROM_BYTES + 1)
    small.write_bytes(b"a,b\n1,2\n")
    model.write_bytes(b"PK")
    guess = cli_main._likely_in_workers
    assert cli_main._WORKERS_FROM_BYTES == batch.PARALLEL_FROM_BYTES == 2 * batch.CHUNK_BYTES
    two_cores = len(os.sched_getaffinity(0)) >= 2
    assert guess(["score", str(big), "--model", str(model), "-o", "o.csv"], model) is two_cores
    assert guess(["score", str(small), "--model", str(model), "-o", "o.csv", "--workers", "2"], model)
    for other in (["--workers", "1"], ["--engine", "dask"], ["--actions", "a.csv"], ["--sheet", "June"]):
        assert not guess(["score", str(big), "--model", str(model), "-o", "o.csv", *other], model)
    assert not guess(["score", str(small), "--model", str(model), "-o", str(big)], model)  # an old output
    assert not guess(["score", str(big), "--model", str(model), "-o", "o.xlsx"], model)



def test_a_loan_repeated_across_chunks_is_named_in_file_order_whatever_its_hash():
    import numpy as np
    import pandas as pd

    seen = batch._SeenLoans()
    earlier = np.array([f"L{i}" for i in range(1000)], dtype=object)
    seen.check(pd.util.hash_array(earlier), earlier, np.arange(2, 1002))
    later = np.array(["N1", "L950", "N2", "L7"], dtype=object)
    hashes = pd.util.hash_array(later)
    assert hashes[3] < hashes[1]  # the later repeat is looked up first: the message still names the earlier
    with pytest.raises(RecoveryError, match=r"^Loan_ID 'L950' at row 1004 was already earlier in the file: every "
                                            r"loan must appear once\. Fix the duplicate and run again\.$"):
        seen.check(hashes, later, np.arange(1003, 1007))
    fresh = np.array(["N1", "N2"], dtype=object)
    seen.check(pd.util.hash_array(fresh), fresh, np.arange(1003, 1005))
    assert len(seen.hashes) == 1002 and (seen.hashes[1:] >= seen.hashes[:-1]).all()
