"""Column definitions of the exports: key, Chinese and English header, kind and width.

Cell values are the same in every language (lang changes headers and titles only):
codes stay codes, datetimes are Asia/Shanghai wall-clock times.
"""

from dataclasses import dataclass
from datetime import datetime

from ..timeutil import SHANGHAI

KINDS = ("text", "int", "number", "datetime", "bool")


@dataclass(frozen=True)
class Column:
    """One export column. Its English header is its JSON key (lang=en), so an English
    export reads like the JSON and a ledger export re-imports under the same names."""

    key: str
    zh: str
    kind: str = "text"
    width: float = 14

    def header(self, lang):
        return self.zh if lang == "zh" else self.key


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


def tags_text(tags):
    """Tag codes joined the way the roster import reads them back."""
    return "|".join(tags or [])
