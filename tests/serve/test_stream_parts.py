"""How a streamed file is cut into parts: evenly across the workers, records counted as the reader reads them."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

from core import __main__ as cli_main
from core.data import record_ends
from core.serve import batch
from tests.helpers import portfolio_file


@pytest.fixture(scope="module")
def june(tmp_path_factory):
    return portfolio_file(tmp_path_factory.mktemp("parts") / "june.csv", n=2000, seed=3)


def test_parts_cut_evenly_so_each_of_two_workers_scores_as_many_bytes(june):
    size = june.stat().st_size
    plain = size * 10 // 42  # four full parts and a fifth of a part, scored while the other worker waits
    assert len(list(batch.read_chunks(june, plain)[1])) == 5
    parts = list(batch.read_chunks(june, batch.even_chunk_bytes(size, 2, plain))[1])
    lengths = [len(p.data) for p in parts]
    assert len(parts) == 6
    # all within a couple of records (about 150 bytes each); the last holds what the others' cuts left
    # short of their room, so it is at most a few percent shorter
    assert max(lengths[:-1]) - min(lengths[:-1]) < 2 * 200 and 0.95 * max(lengths) < lengths[-1] <= max(lengths)
    assert max(lengths) <= plain * 1.01
    # the records are all there, numbered as the file has them
    assert parts[0].first_record == 2
    assert sum(p.data.count(b"\n") for p in parts) == 2000
    assert [p.first_record for p in parts[1:]] == [
        parts[i].first_record + parts[i].data.count(b"\n") for i in range(len(parts) - 1)]


def test_one_worker_or_a_file_of_one_part_keeps_the_size_given():
    assert batch.even_chunk_bytes(10**9, 1, 8 << 20) == 8 << 20
    assert batch.even_chunk_bytes(5 << 20, 2, 8 << 20) == 8 << 20
    assert batch.even_chunk_bytes(17 * (8 << 20) + 1, 2, 8 << 20) == -(-(17 * (8 << 20) + 1) // 18) * 257 // 256


@pytest.mark.parametrize("data", [
    b"a,b\n1,2\n3,4\n",
    b"a,b\r\n1,2\r\n3,4",  # no line end after the last record
    b'a,"b\nc"\n1,2\n',  # a line break inside a quoted cell ends no record
    b'a,5" screen\n1,"x"\n',  # an inch mark inside an unquoted cell
    b"",
])
@pytest.mark.parametrize("limit", [5, 11, 1000])
def test_records_of_a_part_are_counted_as_the_reader_finds_them(data, limit):
    ends = record_ends(data[:limit])
    assert batch._records_in(data, limit, b",") == (len(ends), int(ends[-1]) + 1 if len(ends) else 0)


@pytest.mark.parametrize("piece", [b"", b"\n\n", b' ,;|"\'\r\n\t', b"\n\n1\n", b"x", b",,,\n,,5,\n"])
def test_a_part_has_values_when_anything_but_blanks_separators_and_quotes_is_in_it(piece):
    assert batch._has_values(piece) == bool(piece.strip(b" \t\r\n,;|\"'"))


def test_the_command_line_ends_with_its_status_once_its_output_is_flushed(monkeypatch):
    class Pipe(io.StringIO):
        """A stdout that keeps what was flushed to its reader apart from what is still buffered."""

        read = ""

        def flush(self):
            self.read = self.getvalue()

    ended = []

    def end_here(code):
        ended.append((code, sys.stdout.read, sys.stderr.read))
        raise SystemExit(code)

    monkeypatch.setattr(sys, "stdout", Pipe())
    monkeypatch.setattr(sys, "stderr", Pipe())
    monkeypatch.setattr(cli_main.os, "_exit", end_here)
    print("Scored 3 borrowers", end="")
    print("roles: …", end="", file=sys.stderr)
    with pytest.raises(SystemExit):
        cli_main._end(2)
    assert ended == [(2, "Scored 3 borrowers", "roles: …")]


def test_counting_a_quote_free_part_agrees_with_the_reader_on_a_real_file(june):
    data = june.read_bytes()
    for limit in (4096, 50_000, len(data)):
        ends = np.asarray(record_ends(data[:limit]))
        assert batch._records_in(data, limit, b",") == (len(ends), int(ends[-1]) + 1)
