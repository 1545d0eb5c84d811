"""How a list is exported, in one place: its columns, title, file name and writer.

`export()` takes the rows of a list (dicts with the JSON keys, or from the problem lists' SQL
ready CSV lines or XLSX cells) and gives an `ExportFile`: CSV streamed in chunks, XLSX spooled
to a temporary file (memory flat in the row count either way). The services call it; the
views only turn the ExportFile into a response (exports/http.py).
"""

from dataclasses import dataclass
from datetime import datetime

from ..timeutil import SHANGHAI, now
from .columns import Column, headers
from .csv_writer import csv_chunks, csv_line_chunks
from .http import CSV_TYPE, XLSX_TYPE
from .layouts import LAYOUTS, title_word
from .xlsx_writer import Chart, file_chunks, spool_xlsx

__all__ = ["Chart", "Column", "ExportFile", "export", "headers", "period_words"]


@dataclass
class ExportFile:
    chunks: object  # an iterator of bytes
    content_type: str
    filename: str  # the UTF-8 name (Chinese)
    fallback: str  # the ASCII name
    length: int | None = None


def _bound(value):
    """A from/to bound as the title shows it: the date, or the local date and time."""
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def period_words(lo, hi, lang):
    """The period in words: 全部时间 when open-ended, '2026-11-01 起', '截至 2026-11-30',
    or '2026-11-01–2026-11-30'."""
    if lo is None and hi is None:
        return "全部时间" if lang == "zh" else "all time"
    if hi is None:
        return f"{_bound(lo)} 起" if lang == "zh" else f"from {_bound(lo)}"
    if lo is None:
        return f"截至 {_bound(hi)}" if lang == "zh" else f"until {_bound(hi)}"
    return f"{_bound(lo)}–{_bound(hi)}"


def _file_period(lo, hi, lang):
    """(UTF-8, ASCII) forms of the period for file names."""
    if lo is None and hi is None:
        return period_words(lo, hi, lang).replace(" ", "-"), "all-time"
    ascii_lo = _bound(lo).replace(" ", "T").replace(":", "") if lo is not None else "start"
    ascii_hi = _bound(hi).replace(" ", "T").replace(":", "") if hi is not None else "now"
    text = f"{ascii_lo}_{ascii_hi}"
    return text, text


def export(
    list_name, fmt, lang, unit, period, rows, *, columns=None, xml=False, lines=False, chart=None
):
    """The export of a list as fmt (csv | xlsx).

    unit: {code, name}; period: (from, to) as the query gave them (date, datetime or None);
    rows: dicts with the JSON keys; or for an XLSX (xml=True) a function of the columns'
    cell plan giving each row's cells as XML (xlsx_writer.CellPlan); or for a CSV
    (lines=True) its lines without their line ends. chart: an xlsx_writer.Chart.
    """
    layout_columns, _zh, _en = LAYOUTS[list_name]
    columns = columns or layout_columns
    lo, hi = period
    word = title_word(list_name, lang)
    stamp = now().astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    exported = f"导出于 {stamp}" if lang == "zh" else f"exported at {stamp}"
    title = f"{unit['name']} {word} {period_words(lo, hi, lang)} {exported}"
    file_period, ascii_period = _file_period(lo, hi, lang)
    base = f"{unit['name']}-{word}-{file_period}"
    fallback = f"{unit['code']}-{list_name}-{ascii_period}"
    if fmt == "csv":
        write = csv_line_chunks if lines else csv_chunks
        chunks = write(columns, rows, lang)
        return ExportFile(chunks, CSV_TYPE, base + ".csv", fallback + ".csv")
    path, size = spool_xlsx(columns, rows, lang, title, sheet_name=word, xml=xml, chart=chart)
    return ExportFile(file_chunks(path), XLSX_TYPE, base + ".xlsx", fallback + ".xlsx", size)
