"""Export columns: key, Chinese header, kind, print width, and how a cell reads in each language.

With ``lang=zh`` a coded cell shows its Chinese label (labels.py) and a yes/no cell 是/否;
with ``lang=en`` cells keep the codes and booleans. Both languages have the same columns in
the same order (DESIGN §11). The SQL of the problem lists renders the same cells from the
same mappings (``Column.labels``); tests/test_exports.py checks the two agree.
"""

from dataclasses import dataclass
from datetime import datetime

from .. import labels as label_tables
from ..timeutil import SHANGHAI


@dataclass(frozen=True)
class Column:
    """One export column. Its English header is its key (lang=en), so an English export
    reads like the JSON.

    label: the labels.TABLES kind of a coded column (zh cells show the label).
    zh_key: the row key read with lang=zh instead of key (问题大类 reads the parent category's
    name where lang=en reads the category code).
    wrap: long text, wrapped at the column's width when printed.
    """

    key: str
    zh: str
    kind: str = "text"
    width: float = 10
    label: str | None = None
    zh_key: str | None = None
    wrap: bool = False

    def header(self, lang):
        return self.zh if lang == "zh" else self.key

    def source(self, lang):
        """The row key this column reads in lang."""
        return self.zh_key if lang == "zh" and self.zh_key else self.key

    def labels(self, lang):
        """{code or bool: Chinese label} for a coded or yes/no column in zh, else None."""
        if lang != "zh":
            return None
        if self.kind == "bool":
            return label_tables.BOOL
        if self.label == "tag":
            return None  # a list: tags_text
        return label_tables.TABLES[self.label] if self.label else None

    def cell_kind(self, lang):
        """The kind of the written cell: a labelled cell is text."""
        return "text" if self.labels(lang) is not None else self.kind


def headers(columns, lang):
    return [c.header(lang) for c in columns]


def local_datetime(value):
    """A stored ISO datetime as a naive Asia/Shanghai datetime (what Excel shows), or None."""
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is not None:
        dt = dt.astimezone(SHANGHAI).replace(tzinfo=None)
    return dt.replace(microsecond=0)


def tags_text(tags, lang):
    """zh: the tags' labels joined by 、; en: the codes joined by | (both read back by the
    roster import)."""
    if lang == "zh":
        return label_tables.tags(tags)
    return "|".join(tags or [])


def cell_value(column, row, lang):
    """The value of column in a row dict as lang shows it (labels applied, tags joined)."""
    value = row.get(column.source(lang))
    if value is None:
        return None
    if column.label == "tag":
        return tags_text(value, lang)
    mapping = column.labels(lang)
    if mapping is not None:
        return mapping.get(bool(value) if column.kind == "bool" else value, value)
    return value
