"""exports/deflated_rows: rows deflated on a thread of their own, put into a zip entry
between the sheet's head and tail, read back byte for byte with a valid CRC."""

import os
import threading
import zipfile
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey_api.exports import deflated_rows
from survey_api.exports.deflated_rows import DeflatedRows, crc32_combine, write_entry


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_crc32_combine_is_the_crc_of_the_concatenation(a, b):
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def test_crc32_combine_over_a_long_second_part():
    a, b = b"head" * 10, os.urandom(3_000_001)
    assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def _entry(tmp_path, head, rows_text, tail, monkeypatch, chunk=64):
    """A zip with one entry: head + the rows (written in pieces) + tail."""
    monkeypatch.setattr(deflated_rows, "CHUNK_CHARS", chunk)
    rows = DeflatedRows(str(tmp_path), level=1)
    for piece in rows_text:
        rows.write(piece)
    rows.finish()
    sheet = tmp_path / "sheet.xml"
    sheet.write_bytes(head + tail)
    path = tmp_path / "book.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("before.txt", b"x" * 1000)
        write_entry(archive, str(sheet), "xl/worksheets/sheet1.xml", len(head), rows, 1)
        archive.writestr("after.txt", b"y" * 1000)
    rows.close()
    return path


def test_the_entry_reads_back_as_head_rows_tail(tmp_path, monkeypatch):
    head = b'<?xml version="1.0"?><worksheet><sheetData><row r="1"/>'
    tail = b"</sheetData><pageSetup/></worksheet>"
    rows = [
        f'<row r="{n}"><c><is><t>网格{n} {"长文本" * (n % 7)}</t></is></c></row>'
        for n in range(2, 3000)
    ]
    path = _entry(tmp_path, head, rows, tail, monkeypatch)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every entry's CRC-32 checks
        assert archive.read("xl/worksheets/sheet1.xml") == head + "".join(rows).encode() + tail
        assert archive.read("before.txt") == b"x" * 1000
        assert archive.read("after.txt") == b"y" * 1000
        info = archive.getinfo("xl/worksheets/sheet1.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.compress_size < info.file_size


def test_no_rows_at_all(tmp_path, monkeypatch):
    path = _entry(tmp_path, b"<a>", [], b"</a>", monkeypatch)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert archive.read("xl/worksheets/sheet1.xml") == b"<a></a>"


def test_a_failing_thread_reaches_the_writer_and_nothing_hangs(tmp_path, monkeypatch):
    monkeypatch.setattr(deflated_rows, "CHUNK_CHARS", 8)
    rows = DeflatedRows(str(tmp_path), level=1)
    rows.file.close()  # the thread's next write fails
    with pytest.raises((ValueError, RuntimeError)):
        for n in range(10_000):
            rows.write(f"row {n} ")
        rows.finish()
    rows.abort()
    assert not any(t.name == "xlsx-deflate" and t.is_alive() for t in threading.enumerate())


def test_abort_stops_the_thread_of_unfinished_rows(tmp_path):
    rows = DeflatedRows(str(tmp_path), level=1)
    rows.write("<row/>")
    rows.abort()
    rows.close()
    assert not rows._thread.is_alive()


def test_rows_that_fail_midway_leave_no_file_and_no_thread(tmp_path, monkeypatch):
    """A list whose rows raise after a few (say the database went away): the error reaches
    the caller, the spool directory is gone and the deflate thread has stopped."""
    import tempfile

    from survey_api.exports.layouts import LAYOUTS
    from survey_api.exports.xlsx_writer import spool_xlsx

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    columns = LAYOUTS["rectification-list"][0]

    def make_rows(plan):
        for n in range(3):
            yield "".join(f"{cell.head.replace(chr(1), '9')}/>" for cell in plan), 1 + n
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="went away"):
        spool_xlsx(columns, make_rows, "zh", "title", xml=True)
    assert list(tmp_path.iterdir()) == []
    assert not any(t.name == "xlsx-deflate" and t.is_alive() for t in threading.enumerate())
