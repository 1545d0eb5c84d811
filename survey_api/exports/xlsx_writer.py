"""XLSX export: XlsxWriter in constant_memory mode to a temporary file, then streamed.

Row 1 is the title, row 2 the header, panes are frozen at A3, an autofilter covers the
table, datetimes are real Excel dates (Asia/Shanghai wall-clock time).
"""

import os
import tempfile

import xlsxwriter

from .columns import headers, local_datetime

READ_CHUNK = 64 * 1024
DATE_FORMAT = "yyyy-mm-dd hh:mm"


def write_xlsx(path, columns, rows, lang, title, sheet_name="Sheet1"):
    """Write the workbook to path; returns the number of data rows."""
    workbook = xlsxwriter.Workbook(path, {
        "constant_memory": True,
        "tmpdir": os.path.dirname(path),
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    })
    try:
        sheet = workbook.add_worksheet(sheet_name[:31])
        title_fmt = workbook.add_format({"bold": True, "font_size": 14})
        header_fmt = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                          "text_wrap": True, "valign": "vcenter"})
        date_fmt = workbook.add_format({"num_format": DATE_FORMAT})
        for index, column in enumerate(columns):
            sheet.set_column(index, index, column.width)
        sheet.write_string(0, 0, title, title_fmt)
        for index, text in enumerate(headers(columns, lang)):
            sheet.write_string(1, index, text, header_fmt)
        sheet.freeze_panes(2, 0)
        row_index = 1
        for row in rows:
            row_index += 1
            for index, column in enumerate(columns):
                value = row.get(column.key)
                if value is None or value == "":
                    continue
                kind = column.kind
                if kind == "datetime":
                    sheet.write_datetime(row_index, index, local_datetime(value), date_fmt)
                elif kind == "bool":
                    sheet.write_boolean(row_index, index, bool(value))
                elif kind in ("int", "number"):
                    sheet.write_number(row_index, index, value)
                else:
                    sheet.write_string(row_index, index, str(value))
        sheet.autofilter(1, 0, max(row_index, 1), len(columns) - 1)
    finally:
        workbook.close()
    return row_index - 1


def spool_xlsx(columns, rows, lang, title, sheet_name="Sheet1"):
    """Write the workbook into a fresh temporary directory; returns (path, size).

    Rows are consumed while the workbook is written (constant_memory flushes each row to
    disk), so memory stays flat in the row count.
    """
    tmpdir = tempfile.mkdtemp(prefix="survey-export-")
    path = os.path.join(tmpdir, "export.xlsx")
    try:
        write_xlsx(path, columns, rows, lang, title, sheet_name)
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
