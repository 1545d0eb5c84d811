"""Photos (content-addressed blobs): who may upload and read them, what an upload changes,
and their thumbnails for the console (made once with Pillow, cached beside the blob).

The files themselves are blob_store's; this module decides and records.
"""

import os
import tempfile

from PIL import Image, ImageOps, UnidentifiedImageError

from schemas.blobs import CONTENT_TYPES

from ..db import write_tx
from ..errors import ApiError
from ..storage import audit, blobs
from . import blob_store


def public(row):
    return {"sha256": row["sha256"], "size": row["size"], "content_type": row["content_type"]}


def check_content_type(content_type):
    if content_type not in CONTENT_TYPES:
        raise ApiError(
            415, "UNSUPPORTED_MEDIA_TYPE", f"Photos must be one of {', '.join(CONTENT_TYPES)}."
        )


def upload(scope, sha256, content_type, stream, *, blob_dir, max_bytes, ip=None):
    """Store a photo's bytes (checked against sha256 and its type); (record, created).

    A new photo logs a change for every record that shows it missing, so pulls resend them.
    """
    check_content_type(content_type)
    conn = scope.conn
    existing = blobs.get(conn, sha256)
    if existing and os.path.exists(blob_store.path_for(blob_dir, sha256)):
        blob_store.verify(stream, sha256, content_type, max_bytes)
        return public(existing), False
    tmp, size = blob_store.receive(stream, blob_dir, sha256, content_type, max_bytes)
    blob_store.commit(tmp, blob_dir, sha256)
    with write_tx(conn):
        created = blobs.get(conn, sha256) is None
        blobs.insert(conn, sha256, content_type, size, scope.user_id)
        if created:
            blobs.touch_referencing(conn, sha256)
            audit.record(
                conn,
                actor=scope.user_id,
                action="blob.upload",
                target=sha256,
                ip=ip,
                details={"size": size, "content_type": content_type},
            )
    return public(blobs.get(conn, sha256)), created


def find(scope, sha256, *, blob_dir, content=True):
    """(row, file path) of a stored photo, else 404. content=True (a GET): only to its uploader
    and to users who can see a record referencing it; HEAD (content=False) to anyone."""
    conn = scope.conn
    row = blobs.get(conn, sha256)
    path = blob_store.path_for(blob_dir, sha256)
    if row is None or not os.path.exists(path):
        raise ApiError(404, "NOT_FOUND", "No such blob.")
    if (
        content
        and row["uploaded_by"] != scope.user_id
        and not any(scope.holds_grid(g) for g in blobs.referencing_grids(conn, sha256))
    ):
        raise ApiError(404, "NOT_FOUND", "No such blob.")
    return row, path


THUMB_PX = 320
THUMB_QUALITY = 80


def thumbnail(path):
    """The path of the JPEG thumbnail (<= 320 px on its longest side) of a stored photo.

    Made on first use and kept next to the blob as <sha256>.thumb.jpg (written to a temporary
    file and renamed: concurrent first uses are safe). A photo Pillow cannot decode (HEIC
    without a plugin, a damaged file) has none: 404.
    """
    thumb = path + ".thumb.jpg"
    if os.path.exists(thumb):
        return thumb
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            img.thumbnail((THUMB_PX, THUMB_PX))
            if img.mode != "RGB":
                img = img.convert("RGB")
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".thumb-")
            with os.fdopen(fd, "wb") as f:
                img.save(f, "JPEG", quality=THUMB_QUALITY, optimize=True)
    except (UnidentifiedImageError, OSError, ValueError):
        raise ApiError(404, "NOT_FOUND", "This photo has no thumbnail.") from None
    os.replace(tmp, thumb)
    return thumb
