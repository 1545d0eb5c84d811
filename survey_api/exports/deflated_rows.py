"""A long sheet's data rows, deflated on a second thread while SQLite writes them.

Zipping the sheet of a 28,000-row list is a quarter of its export when done at the end, as
XlsxWriter does, on the thread that has just waited for SQLite. zlib and SQLite both let go
of the GIL while they work, so the rows are deflated as they come instead, on a thread of
their own, into a temporary file; at the end only the sheet's short head and tail are
deflated, and the entry is the three pieces one after the other.

That is one valid deflate stream: each piece but the last ends with a sync flush (byte
aligned, no final block), and a piece's back-references reach only into its own bytes. The
entry's CRC-32 is the head's combined with the rows' and then continued over the tail
(crc32_combine, as zlib's C library has it; Python's zlib module does not offer it).
"""

import queue
import shutil
import tempfile
import threading
import zlib
from zipfile import ZIP64_LIMIT, ZIP_DEFLATED, LargeZipFile, ZipInfo

CHUNK_CHARS = 256 * 1024  # text handed to the thread at once
QUEUE_CHUNKS = 4  # chunks waiting at most: memory stays flat in the row count
_RAW = -15  # a raw deflate stream, as a zip entry holds it


class DeflatedRows:
    """write(text) … finish(): the rows' UTF-8 deflated at `level` into a temporary file in
    `directory`, with their size and CRC-32. close() in every case (abort() first if the
    rows failed)."""

    def __init__(self, directory, level):
        self.file = tempfile.TemporaryFile(dir=directory)
        self.size = 0
        self.crc = 0
        self.compressed_size = 0
        self._deflate = zlib.compressobj(level, zlib.DEFLATED, _RAW)
        self._queue = queue.Queue(QUEUE_CHUNKS)
        self._pending = []
        self._pending_chars = 0
        self._error = None
        self._thread = threading.Thread(target=self._run, name="xlsx-deflate", daemon=True)
        self._thread.start()

    def write(self, text):
        self._pending.append(text)
        self._pending_chars += len(text)
        if self._pending_chars >= CHUNK_CHARS:
            self._hand_over()

    def finish(self):
        """Wait for the last rows to be deflated; raises what the thread met."""
        self._hand_over()
        self._put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self):
        """Stop the thread without waiting for the rows (the export failed)."""
        self._pending = []
        try:
            self._put(None)
        except Exception:  # the thread has stopped already
            pass
        self._thread.join()

    def close(self):
        self.file.close()

    def _hand_over(self):
        if self._pending:
            data = "".join(self._pending).encode("utf-8")
            self._pending = []
            self._pending_chars = 0
            self._put(data)

    def _put(self, item):
        while True:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError("the rows' deflate thread stopped") from self._error
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _run(self):
        try:
            while (data := self._queue.get()) is not None:
                self.crc = zlib.crc32(data, self.crc)
                self.size += len(data)
                self._emit(self._deflate.compress(data))
            self._emit(self._deflate.flush(zlib.Z_SYNC_FLUSH))
        except BaseException as exc:  # handed to the writing thread by finish()/_put()
            self._error = exc

    def _emit(self, data):
        self.file.write(data)
        self.compressed_size += len(data)


def _gf2_times(matrix, vector):
    total = 0
    for row in matrix:
        if not vector:
            break
        if vector & 1:
            total ^= row
        vector >>= 1
    return total


def _gf2_square(matrix):
    return [_gf2_times(matrix, row) for row in matrix]


def crc32_combine(crc1, crc2, length2):
    """CRC-32 of A + B from crc1 = crc32(A), crc2 = crc32(B) and len(B) (zlib's algorithm:
    crc1 is advanced over length2 zero bytes by the operators for 1, 2, 4 … zero bytes,
    each the square of the one before)."""
    operator = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    operator = _gf2_square(_gf2_square(operator))  # four zero bits
    while length2 > 0:
        operator = _gf2_square(operator)  # one zero byte, then 2, 4 …
        if length2 & 1:
            crc1 = _gf2_times(operator, crc1)
        length2 >>= 1
    return crc1 ^ crc2


def _deflated(data, level, final):
    deflate = zlib.compressobj(level, zlib.DEFLATED, _RAW)
    return deflate.compress(data) + deflate.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def write_entry(zip_file, filename, arcname, rows_at, rows, level):
    """Put the file `filename` into zip_file as `arcname` (deflated), with the finished
    DeflatedRows `rows` inserted at byte rows_at of it.

    zipfile has no call that takes data already deflated, so this follows what its own
    ZipFile._open_to_write and _ZipWriteFile.close do (CPython 3.11–3.13): the local
    header with the final sizes and CRC, the data, the entry in the central directory."""
    with open(filename, "rb") as f:
        text = f.read()
    head, tail = text[:rows_at], text[rows_at:]
    head_deflated = _deflated(head, level, final=False)
    tail_deflated = _deflated(tail, level, final=True)
    zinfo = ZipInfo.from_file(filename, arcname)
    zinfo.compress_type = ZIP_DEFLATED
    zinfo.file_size = len(head) + rows.size + len(tail)
    zinfo.compress_size = len(head_deflated) + rows.compressed_size + len(tail_deflated)
    zinfo.CRC = zlib.crc32(tail, crc32_combine(zlib.crc32(head), rows.crc, rows.size))
    zinfo.flag_bits = 0
    if not zinfo.external_attr:
        zinfo.external_attr = 0o600 << 16
    zip64 = max(zinfo.file_size, zinfo.compress_size) > ZIP64_LIMIT
    if zip64 and not zip_file._allowZip64:
        raise LargeZipFile("Filesize would require ZIP64 extensions")
    with zip_file._lock:
        if zip_file._writing:
            raise ValueError("another write handle is open on the zip file")
        if zip_file._seekable:
            zip_file.fp.seek(zip_file.start_dir)
        zinfo.header_offset = zip_file.fp.tell()
        zip_file._writecheck(zinfo)
        zip_file._didModify = True
        zip_file.fp.write(zinfo.FileHeader(zip64))
        zip_file.fp.write(head_deflated)
        rows.file.seek(0)
        shutil.copyfileobj(rows.file, zip_file.fp, 1024 * 1024)
        zip_file.fp.write(tail_deflated)
        zip_file.start_dir = zip_file.fp.tell()
        zip_file.filelist.append(zinfo)
        zip_file.NameToInfo[zinfo.filename] = zinfo
