"""HTTP responses of exports: content types and RFC 6266 Content-Disposition."""

import re
from urllib.parse import quote

from flask import Response, stream_with_context

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def content_disposition(filename, fallback):
    """attachment with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]", "_", fallback)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stream_response(chunks, *, content_type, filename, fallback, length=None):
    resp = Response(stream_with_context(chunks), content_type=content_type)
    resp.headers["Content-Disposition"] = content_disposition(filename, fallback)
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if length is not None:
        resp.headers["Content-Length"] = str(length)
    return resp


def file_response(export_file):
    """The response of an exports.ExportFile."""
    return stream_response(
        export_file.chunks,
        content_type=export_file.content_type,
        filename=export_file.filename,
        fallback=export_file.fallback,
        length=export_file.length,
    )
