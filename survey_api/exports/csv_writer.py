"""CSV export: UTF-8 with BOM (Excel opens it right), CRLF, header on row 1, streamed.

Text cells that a spreadsheet would evaluate as a formula get a leading apostrophe.
"""

import csv
import io
import re

from .columns import cell_value, headers, local_datetime

CHUNK_ROWS = 500


# Text a spreadsheet would run as a formula (CSV injection): "=HYPERLINK(…)", "@SUM(…)",
# "+cmd…". Plain signed numbers and phone numbers ("+86 138…", "-5") stay as they are.
_FORMULA_START = re.compile(r"^[=@\t\r]|^[+-](?![0-9 ()+-]*$)")


def safe_text(text):
    """Text a spreadsheet would run as a formula, with a leading apostrophe."""
    return "'" + text if _FORMULA_START.match(text) else text


def _cell(column, value, lang):
    """The CSV text of a cell: labels applied (zh), local wall-clock datetimes, true/false."""
    kind = column.cell_kind(lang)
    if value is None:
        return ""
    if kind == "datetime":
        return local_datetime(value).strftime("%Y-%m-%d %H:%M:%S")
    if kind == "bool":
        return "true" if value else "false"
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    if kind == "text" and column.labels(lang) is None:
        return safe_text(text)
    return text


def csv_chunks(columns, rows, lang):
    """Yield the CSV of row dicts as UTF-8 byte chunks of CHUNK_ROWS rows: memory flat in the
    row count."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow(headers(columns, lang))
    pending = 0
    for row in rows:
        writer.writerow([_cell(c, cell_value(c, row, lang), lang) for c in columns])
        pending += 1
        if pending >= CHUNK_ROWS:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
            pending = 0
    yield buf.getvalue().encode("utf-8")


def csv_line_chunks(columns, lines, lang, batch=2000):
    """The same CSV from ready lines (the problem lists, written by SQLite): header by
    csv.writer, then the lines joined with CRLF per batch."""
    buf = io.StringIO()
    buf.write("\ufeff")
    csv.writer(buf, lineterminator="\r\n").writerow(headers(columns, lang))
    yield buf.getvalue().encode("utf-8")
    pending = []
    for line in lines:
        pending.append(line)
        if len(pending) >= batch:
            pending.append("")
            yield "\r\n".join(pending).encode("utf-8")
            pending = []
    if pending:
        pending.append("")
        yield "\r\n".join(pending).encode("utf-8")
