"""Exports of the secretaries' lists: CSV streamed, XLSX spooled to a temporary file.

Both writers take the same inputs: a list of `Column`s, an iterator of row dicts (the
JSON rows, English keys) and the language of headers and title. Neither holds more than
one chunk of rows in memory, whatever the row count.
"""

from .columns import Column, headers
from .csv_writer import csv_chunks
from .xlsx_writer import file_chunks, spool_xlsx

__all__ = ["Column", "headers", "csv_chunks", "spool_xlsx", "file_chunks"]
