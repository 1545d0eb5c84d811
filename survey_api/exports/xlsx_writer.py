"""XLSX export: XlsxWriter in constant_memory mode to a temporary file, then streamed.

Row 1 is the title, row 2 the header, panes are frozen at A3, an autofilter covers the
table, datetimes are real Excel dates (Asia/Shanghai wall-clock time). Every sheet is set up
for printing (DESIGN §11): A4 landscape, one page wide, rows 1–2 repeated on every page,
footer 第 &P 页 共 &N 页, thin borders on the table, long text wrapped at its column's width.
"""

import functools
import os
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from datetime import datetime

import xlsxwriter
import xlsxwriter.workbook
import xlsxwriter.worksheet
from xlsxwriter.utility import xl_col_to_name

from . import deflated_rows
from .columns import cell_value, headers, local_datetime

READ_CHUNK = 64 * 1024
DATE_FORMAT = "yyyy-mm-dd hh:mm"
FOOTER = "第 &P 页 共 &N 页"
A4 = 9
TITLE_HEIGHT = 24
HEADER_HEIGHT = 30
LINE_POINTS = 16  # one line of 11 pt CJK text
ROW_PADDING = 3
# Deflate level of the workbook's zip: 1 zips the sheet of a 28,000-row list 3x faster than
# zlib's default 6 (0.21 s against 0.67 s here) for a file a third larger (6.1 against
# 4.6 MB; the CSV of the same list is 9.5 MB).
ZIP_LEVEL = 1


class _Workbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook (3.3.1), zipped at ZIP_LEVEL, with the data rows of a sheet
    that has them already deflated (deflated_rows) put in as they are.

    XlsxWriter names no level and zips every part itself: its _store_workbook opens the
    module's ZipFile, which is swapped for the call (under a lock, so that threads closing
    workbooks at once each get it and put it back)."""

    _lock = threading.Lock()

    def _store_workbook(self):
        deflated = {
            f"xl/worksheets/sheet{number}.xml": sheet
            for number, sheet in enumerate(self.worksheets(), start=1)
            if getattr(sheet, "deflated_rows", None) is not None
        }
        with self._lock:
            zip_file = xlsxwriter.workbook.ZipFile
            xlsxwriter.workbook.ZipFile = functools.partial(
                _Zip, compresslevel=ZIP_LEVEL, deflated=deflated
            )
            try:
                super()._store_workbook()
            finally:
                xlsxwriter.workbook.ZipFile = zip_file
                for sheet in deflated.values():
                    sheet.deflated_rows.close()


class _Zip(zipfile.ZipFile):
    """The workbook's zip: a sheet whose data rows are deflated already ({arcname: sheet})
    gets them inserted where its XML has left their place (the sheet's rows_at)."""

    def __init__(self, *args, deflated, **kwargs):
        super().__init__(*args, **kwargs)
        self.deflated = deflated

    def write(self, filename, arcname=None, *args, **kwargs):
        if arcname not in self.deflated:
            return super().write(filename, arcname, *args, **kwargs)
        sheet = self.deflated[arcname]
        return deflated_rows.write_entry(
            self, filename, arcname, sheet.rows_at, sheet.deflated_rows, ZIP_LEVEL
        )


class _Worksheet(xlsxwriter.worksheet.Worksheet):
    """XlsxWriter's worksheet (3.3.1) in constant_memory mode, whose rows are moved into
    the sheet's XML as bytes (XlsxWriter reads them back as text, 64 KiB characters at a
    time, decoding and encoding again: a third of closing the workbook of a long list).

    With deflated_rows (the problem lists' data rows, deflated while they were written),
    only the rows before them (title and header) are in the row file; rows_at is the byte
    of the sheet's XML where the deflated ones belong."""

    COPY_CHUNK = 1024 * 1024
    deflated_rows = None
    rows_at = None

    def _write_optimized_sheet_data(self):
        if self.dim_rowmin is None or not hasattr(self.fh, "buffer"):
            super()._write_optimized_sheet_data()
            return
        self._xml_start_tag("sheetData")
        self.row_data_fh.flush()
        self.fh.flush()
        with open(self.row_data_filename, "rb") as rows:
            shutil.copyfileobj(rows, self.fh.buffer, self.COPY_CHUNK)
        self.row_data_fh.close()
        os.unlink(self.row_data_filename)
        self.rows_at = self.fh.buffer.tell()
        self._xml_end_tag("sheetData")


@dataclass(frozen=True)
class Chart:
    """A native column chart over the first `rows` data rows: one series per value key,
    categories from category_key (the summary's coverage and rectification rate)."""

    title: str
    category_key: str
    value_keys: tuple
    rows: int
    y_title: str = "%"


def write_xlsx(
    path,
    columns,
    rows,
    lang,
    title,
    sheet_name="Sheet1",
    fast=True,
    chart=None,
    xml=False,
):
    """Write the workbook to path; returns the number of data rows.

    rows are dicts keyed by column (datetimes as ISO text), or with xml=True a function of
    the cells' plan (CellPlan per column after seq) that returns each row's cells as XML
    with the lines of its wrapped text (the problem lists, written by SQLite).
    """
    workbook = _Workbook(
        path,
        {
            "constant_memory": True,
            "tmpdir": os.path.dirname(path),
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    try:
        sheet = workbook.add_worksheet(sheet_name[:31], worksheet_class=_Worksheet)
        styles = _styles(workbook, columns)
        _print_setup(sheet, columns)
        sheet.set_row(0, TITLE_HEIGHT)
        sheet.write_string(0, 0, title, styles.title)
        names = headers(columns, lang)
        lines = max(text_lines(n, c.width) for n, c in zip(names, columns, strict=True))
        sheet.set_row(1, max(HEADER_HEIGHT, row_height(lines)))
        for index, text in enumerate(names):
            sheet.write_string(1, index, text, styles.header)
        sheet.freeze_panes(2, 0)
        if xml:
            row_index = _write_xml_rows(sheet, columns, rows, styles, lang)
        elif fast and hasattr(sheet, "row_data_fh"):
            row_index = _write_rows_fast(sheet, columns, rows, styles, lang)
        else:
            row_index = _write_rows_api(sheet, columns, rows, styles, lang)
        sheet.autofilter(1, 0, max(row_index, 1), len(columns) - 1)
        if chart is not None and chart.rows > 0:
            _insert_chart(workbook, sheet, columns, lang, chart, row_index)
    finally:
        workbook.close()
    return row_index - 1


def _print_setup(sheet, columns):
    for index, column in enumerate(columns):
        sheet.set_column(index, index, column.width)
    sheet.set_paper(A4)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)  # one page wide, as many pages tall as it takes
    sheet.repeat_rows(0, 1)  # title and header on every printed page
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_footer(f"&C{FOOTER}")
    sheet.center_horizontally()


@dataclass
class _Styles:
    title: object
    header: object
    cells: list  # one format per column (border; date format; wrap)


def _styles(workbook, columns):
    title = workbook.add_format({"bold": True, "font_size": 14})
    header = workbook.add_format(
        {
            "bold": True,
            "bg_color": "#DDEBF7",
            "border": 1,
            "text_wrap": True,
            "valign": "vcenter",
            "align": "center",
        }
    )
    cache, cells = {}, []
    for column in columns:
        key = (column.kind == "datetime", column.wrap)
        if key not in cache:
            spec = {"border": 1, "valign": "top"}
            if column.kind == "datetime":
                spec["num_format"] = DATE_FORMAT
            if column.wrap:
                spec["text_wrap"] = True
            cache[key] = workbook.add_format(spec)
        cells.append(cache[key])
    return _Styles(title, header, cells)


def _insert_chart(workbook, sheet, columns, lang, chart, last_row):
    """A clustered column chart of the chart's value keys by its category column, below the
    table (row indexes: data from 2)."""
    keys = [c.key for c in columns]
    sheet_ref = sheet.name.replace("'", "''")
    first, last = 2, 1 + chart.rows
    category = keys.index(chart.category_key)
    native = workbook.add_chart({"type": "column"})
    for key in chart.value_keys:
        col = keys.index(key)
        native.add_series(
            {
                "name": f"='{sheet_ref}'!${xl_col_to_name(col)}$2",
                "categories": f"='{sheet_ref}'!${xl_col_to_name(category)}${first + 1}:"
                f"${xl_col_to_name(category)}${last + 1}",
                "values": f"='{sheet_ref}'!${xl_col_to_name(col)}${first + 1}:"
                f"${xl_col_to_name(col)}${last + 1}",
                "data_labels": {"value": True, "num_format": "0.0"},
            }
        )
    native.set_title({"name": chart.title, "name_font": {"size": 12}})
    native.set_y_axis(
        {"min": 0, "max": 100, "name": chart.y_title, "major_gridlines": {"visible": True}}
    )
    native.set_legend({"position": "bottom"})
    native.set_size({"width": 860, "height": 360})
    sheet.insert_chart(last_row + 2, 1, native)


def text_lines(text, width):
    """The lines a wrapped text takes in a column of this width (Excel's character units;
    a CJK character is two units wide), so that the row is printed tall enough: XlsxWriter
    cannot measure text, and LibreOffice keeps the default height of a row it is given."""
    units = len(text) + (len(text.encode()) - len(text)) // 2
    return -(-units // max(int(column_units(width)), 1)) + text.count("\n")


def row_height(lines):
    """Points of a row of that many lines."""
    return lines * LINE_POINTS + ROW_PADDING


def column_units(width):
    """Characters that fit in a column of width, less the cell padding."""
    return width - 1


def _write_rows_api(sheet, columns, rows, styles, lang):
    """Data rows through XlsxWriter's API (~7 µs a cell); returns the last row index."""
    row_index = 1
    kinds = [c.cell_kind(lang) for c in columns]
    for row in rows:
        row_index += 1
        values = [cell_value(column, row, lang) for column in columns]
        lines = max(
            [
                text_lines(str(v), c.width)
                for v, c in zip(values, columns, strict=True)
                if c.wrap and v not in (None, "")
            ],
            default=1,
        )
        if lines > 1:
            sheet.set_row(row_index, row_height(lines))
        for index in range(len(columns)):
            value = values[index]
            style = styles.cells[index]
            kind = kinds[index]
            if value is None or value == "":
                sheet.write_blank(row_index, index, None, style)
            elif kind == "datetime":
                sheet.write_datetime(row_index, index, local_datetime(value), style)
            elif kind == "bool":
                sheet.write_boolean(row_index, index, bool(value), style)
            elif kind in ("int", "number"):
                sheet.write_number(row_index, index, value, style)
            else:
                sheet.write_string(row_index, index, str(value), style)
    return row_index


# Cell XML exactly as XlsxWriter's constant_memory mode writes it (inline strings).
_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_ESCAPED_LOOKALIKE = re.compile(r"(_x[0-9a-fA-F]{4}_)")
_UNIX_EPOCH_SERIAL = 25569  # 1970-01-01 as an Excel (1900 system) serial
_SHANGHAI_OFFSET_S = 8 * 3600  # no DST in China since 1991


def _string_xml(ref, style, text):
    return _string_cell(f'<c r="{ref}" s="{style}"', text)


def _string_cell(head, text):
    """A text cell's XML; head is '<c r="B3" s="5"'."""
    if _NEEDS_ESCAPE.search(text):
        text = _ESCAPED_LOOKALIKE.sub(r"_x005F\1", text)
        text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
        text = text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    preserve = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'{head} t="inlineStr"><is><t{preserve}>{text}</t></is></c>'


def _excel_serial(value):
    """A stored ISO datetime as the Excel serial of its Asia/Shanghai wall-clock second
    (the SQL twin: storage/lists._xml_cell)."""
    seconds = int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() // 1)
    return (seconds + _SHANGHAI_OFFSET_S) / 86400 + _UNIX_EPOCH_SERIAL


def _write_rows_fast(sheet, columns, rows, styles, lang):
    """Data rows written straight into the worksheet's constant_memory row file.

    XlsxWriter spends ~7 µs a cell in its generic write path; the rows here are XML built
    with one f-string a cell, the same XML XlsxWriter would write (inline strings, numbers
    with .16G, booleans t="b", dates as serials, every cell with its column's style, empty
    cells as styled blanks so the borders run through). Relies on the constant_memory
    internals of the pinned XlsxWriter (3.3.1): the row file `row_data_fh`, `previous_row`
    and `dim_rowmax`; tests read every kind of cell back with openpyxl.
    """
    sheet._write_single_row(2)  # flush the header row; row 3 is ours
    plan = []
    for index, column in enumerate(columns):
        head = f'<c r="{xl_col_to_name(index)}'
        style = styles.cells[index]._get_xf_index()
        plan.append((column, head, f'" s="{style}"', style, column.cell_kind(lang)))
    write = sheet.row_data_fh.write
    row_index = 1
    for row in rows:
        row_index += 1
        number = row_index + 1
        parts = [""]
        lines = 1
        for column, head, attr, style, kind in plan:
            value = cell_value(column, row, lang)
            if value is None or value == "":
                parts.append(f"{head}{number}{attr}/>")
                continue
            if column.wrap:
                lines = max(lines, text_lines(str(value), column.width))
            if kind == "text":
                parts.append(_string_xml(f"{head[6:]}{number}", style, str(value)))
            elif kind == "datetime":
                parts.append(f"{head}{number}{attr}><v>{_excel_serial(value):.16G}</v></c>")
            elif kind == "bool":
                parts.append(f'{head}{number}{attr} t="b"><v>{1 if value else 0}</v></c>')
            elif kind in ("int", "number"):
                parts.append(f"{head}{number}{attr}><v>{value:.16G}</v></c>")
        parts[0] = (
            f'<row r="{number}" ht="{row_height(lines)}" customHeight="1">'
            if lines > 1
            else f'<row r="{number}">'
        )
        parts.append("</row>")
        write("".join(parts))
    if row_index > 1:
        sheet.dim_rowmax = row_index
        sheet.previous_row = row_index + 1
    return row_index


# Rows whose cells SQLite writes (the problem lists): the plan gives each column's cell head
# with ROW_MARK where the row number goes, and text that _string_cell would change must be
# sent back to it: XML_SPECIAL finds any such character, XML_SPACE are the characters
# str.isspace() knows (at either end of a text they ask for xml:space="preserve").
ROW_MARK = "\x01"
XML_SPECIAL = "*[&<>_\x01-\x08\x0b-\x1f\ufffe\uffff]*"
XML_SPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


@dataclass(frozen=True)
class CellPlan:
    """How SQL writes a column's cells: its head ('<c r="B\x01" s="5"'), the kind of the
    written cell, its labels in this language, and for wrapped text the characters a
    line holds (else None)."""

    column: object
    head: str
    kind: str
    labels: dict | None
    units: int | None


def xml_text(head, text):
    """The SQL function xlsx_text(head, text): a text cell the SQL could not write itself."""
    return _string_cell(head, text)


def _write_xml_rows(sheet, columns, make_rows, styles, lang):
    """Data rows whose cells SQLite wrote: make_rows(plan of the columns after seq) gives
    (cells' XML, lines) per row; here each gets its row number, seq and height."""
    sheet._write_single_row(2)  # flush the header row; row 3 is ours
    plan = []
    for index, column in enumerate(columns):
        head = f'<c r="{xl_col_to_name(index)}{ROW_MARK}" s="{styles.cells[index]._get_xf_index()}"'
        units = max(int(column_units(column.width)), 1) if column.wrap else None
        plan.append(CellPlan(column, head, column.cell_kind(lang), column.labels(lang), units))
    seq_style = styles.cells[0]._get_xf_index()
    rows = deflated_rows.DeflatedRows(os.path.dirname(sheet.row_data_filename), ZIP_LEVEL)
    write = rows.write
    row_index = 1
    try:
        for row_index, (cells, lines) in enumerate(make_rows(plan[1:]), start=2):
            number = row_index + 1
            if lines > 1:
                head = f'<row r="{number}" ht="{row_height(lines)}" customHeight="1">'
            else:
                head = f'<row r="{number}">'
            mark = str(number)
            write(
                f'{head}<c r="A{number}" s="{seq_style}"><v>{row_index - 1}</v></c>'
                f"{cells.replace(ROW_MARK, mark)}</row>"
            )
        rows.finish()
    except BaseException:
        rows.abort()
        rows.close()
        raise
    sheet.deflated_rows = rows
    if row_index > 1:
        sheet.dim_rowmax = row_index
        sheet.previous_row = row_index + 1
    return row_index


def spool_xlsx(columns, rows, lang, title, sheet_name="Sheet1", chart=None, xml=False):
    """Write the workbook into a fresh temporary directory; returns (path, size).

    Rows are consumed while the workbook is written (constant_memory flushes each row to
    disk), so memory stays flat in the row count.
    """
    tmpdir = tempfile.mkdtemp(prefix="survey-export-")
    path = os.path.join(tmpdir, "export.xlsx")
    try:
        write_xlsx(path, columns, rows, lang, title, sheet_name, chart=chart, xml=xml)
    except BaseException:
        _remove(path)
        raise
    return path, os.path.getsize(path)


def file_chunks(path):
    """Yield a spooled file in 64 KiB chunks, then delete it and its directory."""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(READ_CHUNK):
                yield chunk
    finally:
        _remove(path)


def _remove(path):
    tmpdir = os.path.dirname(path)
    for name in os.listdir(tmpdir):
        os.remove(os.path.join(tmpdir, name))
    os.rmdir(tmpdir)
