"""Importing a community's household roster (台账) from CSV or XLSX, row by row.

Each row is validated like a household create, matched to an existing household by `id`,
else by (grid_code, address, building, unit_no, room), and then created, updated (only the
fields that differ, through the households storage so versions and the change log move),
left unchanged, or rejected with its reasons. Good rows go in, bad rows are reported:
importing the same file twice changes nothing the second time.
"""

import csv
import io
import re
import uuid
from dataclasses import dataclass, field

from marshmallow import ValidationError

from schemas.households import HouseholdCreateSchema

from .. import labels
from ..db import savepoint, write_tx
from ..errors import ApiError, flatten_errors
from ..storage import audit
from ..storage import households as store
from ..storage import units as unit_store

FIELDS = store.FIELDS
CHINESE = {
    "网格编码": "grid_code",
    "地址": "address",
    "楼栋": "building",
    "单元": "unit_no",
    "房号": "room",
    "户主姓名": "head_name",
    "联系电话": "phone",
    "人数": "members",
    "标签": "tags",
    "备注": "notes",
}
ALIASES = {
    "id": "id",
    "household_id": "id",
    "住户id": "id",
    "编号": "id",
    **{f: f for f in FIELDS},
    **CHINESE,
}
REQUIRED = ("grid_code", "address")
TAG_SPLIT = re.compile(r"[|、]")
MAX_ROWS = 50_000
XLSX_MAGIC = b"PK\x03\x04"

_SCHEMA = HouseholdCreateSchema()


class ImportFileError(Exception):
    """The file as a whole cannot be read (format, encoding, header): nothing imported."""

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.errors = errors or {}


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rows: list = field(default_factory=list)
    ignored_columns: list = field(default_factory=list)

    def add(self, number, status, **extra):
        setattr(self, status, getattr(self, status) + 1)
        self.rows.append({"row": number, "status": status, **extra})

    def as_dict(self):
        return {
            "summary": {
                "created": self.created,
                "updated": self.updated,
                "unchanged": self.unchanged,
                "rejected": self.rejected,
            },
            "ignored_columns": self.ignored_columns,
            "rows": self.rows,
        }


# --- reading the file -----------------------------------------------------------------------


def read_rows(data: bytes):
    """The file's rows (lists of cell values), row 1 first; XLSX told apart by its magic."""
    if data.startswith(XLSX_MAGIC):
        return _xlsx_rows(data)
    return _csv_rows(data)


def _xlsx_rows(data):
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a broken zip
        raise ImportFileError(f"Not a readable XLSX file: {e}") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _csv_rows(data):
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("The CSV is neither UTF-8 nor GB18030 text.")
    if "\x00" in text:
        raise ImportFileError("The CSV contains NUL bytes.")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise ImportFileError(f"Not a readable CSV file: {e}") from None


def _header(cells):
    """{column index: field} from row 1; unknown columns are listed, required ones checked."""
    mapping, ignored = {}, []
    for index, cell in enumerate(cells):
        name = _text(cell)
        key = ALIASES.get(name.lower()) if name else None
        if key is None:
            if name:
                ignored.append(name)
            continue
        if key in mapping.values():
            raise ImportFileError(
                f"Column {name!r} appears twice.", {"header": [f"Duplicate column {name}."]}
            )
        mapping[index] = key
    missing = [f for f in REQUIRED if f not in mapping.values()]
    if missing:
        raise ImportFileError(
            "Row 1 must be the header: grid_code,address,building,unit_no,room,head_name,"
            "phone,members,tags,notes (or 网格编码, 地址, 楼栋, 单元, 房号, 户主姓名, 联系电话,"
            " 人数, 标签, 备注), optional id.",
            {"header": [f"Missing column {m}." for m in missing]},
        )
    return mapping, ignored


def _text(value):
    """A cell as text: numbers without a spurious '.0', blanks as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _row_data(cells, mapping):
    """The household data of one row, as a create body would carry it."""
    data = {}
    for index, key in mapping.items():
        raw = cells[index] if index < len(cells) else None
        text = _text(raw)
        if key == "tags":
            # codes, or their Chinese labels as a lang=zh ledger export writes them
            data[key] = [labels.tag_code(t.strip()) for t in TAG_SPLIT.split(text) if t.strip()]
        elif key == "members":
            if text == "":
                data[key] = None
            elif re.fullmatch(r"[0-9]+", text):
                data[key] = int(text)
            else:
                data[key] = text  # the schema reports it
        elif key == "id":
            if text:
                data[key] = text.lower()
        else:
            data[key] = text or None
    if data.get("address") is None:
        data["address"] = ""  # "required": reported as too short
    return data


# --- applying it ------------------------------------------------------------------------------


def check_may_import(scope):
    """Secretaries and above import rosters; grid workers may not."""
    if scope.is_grid_worker:
        raise ApiError(403, "FORBIDDEN", "Grid workers may not import rosters.")


def import_roster(conn, scope, data: bytes, *, name=None, ip=None):
    """A roster upload through the API (check_may_import), rows outside the caller's grids
    rejected, audited under `name`; returns the report as a dict (422 for an unreadable file).
    """
    check_may_import(scope)
    try:
        report = import_households(conn, data, holds_grid=scope.holds_grid, actor_id=scope.user_id)
    except ImportFileError as e:
        raise ApiError(
            422, "VALIDATION_ERROR", str(e), errors=e.errors or {"file": [str(e)]}
        ) from None
    body = report.as_dict()
    with write_tx(conn):
        audit.record(
            conn,
            actor=scope.user_id,
            action="household.import",
            target=name,
            ip=ip,
            details=body["summary"],
        )
    return body


def import_households(conn, data: bytes, *, holds_grid, actor_id=None):
    """Import a roster file; returns the Report. holds_grid(code) says what the caller may write.

    Raises ImportFileError when the file itself is unreadable (nothing is imported).
    """
    rows = read_rows(data)
    if not rows:
        raise ImportFileError("The file is empty.", {"header": ["Missing header row."]})
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(f"At most {MAX_ROWS} rows a file.")
    mapping, ignored = _header(rows[0])
    report = Report(ignored_columns=ignored)
    grids, seen = {}, {}
    with write_tx(conn):
        for number, cells in enumerate(rows[1:], start=2):
            if not any(_text(c) for c in cells):
                continue
            try:
                with savepoint(conn, "import_row"):
                    _import_row(
                        conn,
                        report,
                        number,
                        _row_data(cells, mapping),
                        grids,
                        seen,
                        holds_grid,
                        actor_id,
                    )
            except ValidationError as e:
                report.add(number, "rejected", errors=flatten_errors(e.messages))
    return report


def _grid_ok(conn, grids, code, holds_grid):
    if code not in grids:
        unit = unit_store.get(conn, code)
        if unit is None or unit["level"] != "grid":
            grids[code] = "No such grid."
        elif not holds_grid(code):
            grids[code] = "This grid is outside your scope."
        else:
            grids[code] = None
    return grids[code]


def _import_row(conn, report, number, data, grids, seen, holds_grid, actor_id):
    fields = _SCHEMA.load(data)
    household_id = fields.pop("id", None)
    problem = _grid_ok(conn, grids, fields["grid_code"], holds_grid)
    if problem:
        raise ValidationError({"grid_code": [problem]})
    # A second row for the same household would make every re-import flip it back and forth.
    place = (
        fields["grid_code"],
        fields["address"],
        fields.get("building"),
        fields.get("unit_no"),
        fields.get("room"),
    )
    for key in filter(None, (household_id, place)):
        if key in seen:
            raise ValidationError({"_row": [f"Same household as row {seen[key]}."]})
    for key in filter(None, (household_id, place)):
        seen[key] = number
    existing = None
    if household_id:
        existing = store.get_row(conn, household_id)
        if existing is not None and not holds_grid(existing["grid_code"]):
            raise ValidationError({"id": ["No such household in your scope."]})
        if existing is not None and existing["deleted"]:
            raise ValidationError({"id": ["This household was deleted."]})
    else:
        existing = store.find_match(
            conn,
            fields["grid_code"],
            fields["address"],
            fields.get("building"),
            fields.get("unit_no"),
            fields.get("room"),
        )
    if existing is None:
        new_id = household_id or str(uuid.uuid4())
        store.insert(conn, new_id, fields, created_by=actor_id)
        report.add(number, "created", id=new_id)
        return
    changes = store.changed_fields(existing, fields)
    if not changes:
        report.add(number, "unchanged", id=existing["id"])
        return
    store.update(conn, existing["id"], changes)
    report.add(number, "updated", id=existing["id"], fields=sorted(changes))
