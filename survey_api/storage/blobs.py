"""Photo blobs (content-addressed) and which records reference them."""

from ..timeutil import now_iso
from .changes import record_change
from .chunks import chunks


def get(conn, sha256):
    row = conn.execute("SELECT * FROM blobs WHERE sha256 = ?", (sha256,)).fetchone()
    return dict(row) if row else None


def insert(conn, sha256, content_type, size, uploaded_by):
    conn.execute(
        "INSERT OR IGNORE INTO blobs (sha256, content_type, size, uploaded_by, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (sha256, content_type, size, uploaded_by, now_iso()),
    )


def stored_among(conn, shas):
    """The subset of shas that are stored."""
    shas = list(dict.fromkeys(shas))
    found = set()
    for chunk, marks in chunks(shas):
        found.update(
            r[0] for r in conn.execute(f"SELECT sha256 FROM blobs WHERE sha256 IN ({marks})", chunk)
        )
    return found


def missing(conn, shas):
    """photos_missing: the shas (in order, once each) not stored yet."""
    if not shas:
        return []
    stored = stored_among(conn, shas)
    return [s for s in dict.fromkeys(shas) if s not in stored]


def set_refs(conn, entity, record_id, grid_code, shas):
    """Replace the photo references of one record."""
    conn.execute("DELETE FROM photo_refs WHERE entity = ? AND record_id = ?", (entity, record_id))
    conn.executemany(
        "INSERT OR IGNORE INTO photo_refs (sha256, entity, record_id, grid_code) "
        "VALUES (?, ?, ?, ?)",
        [(s, entity, record_id, grid_code) for s in dict.fromkeys(shas)],
    )


def referencing_grids(conn, sha256):
    """Grid codes of the records that reference a photo."""
    return [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT grid_code FROM photo_refs WHERE sha256 = ?", (sha256,)
        )
    ]


def touch_referencing(conn, sha256):
    """A photo arrived: log a change for each record showing it as missing, so pulls resend it."""
    refs = conn.execute(
        "SELECT entity, record_id, grid_code FROM photo_refs WHERE sha256 = ?", (sha256,)
    ).fetchall()
    for entity, record_id, grid_code in refs:
        seq = record_change(conn, entity, record_id, grid_code)
        table = {"visit": "visits", "problem": "problems"}.get(entity)
        if table:
            conn.execute(f"UPDATE {table} SET seq = ? WHERE id = ?", (seq, record_id))
