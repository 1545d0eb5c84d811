"""Who may read a stored photo, and its thumbnail (made once with Pillow, cached beside it).

One rule for GET /api/v1/blobs/{sha256} and the console's /console/photos/{sha256}: the
uploader, and users whose scope holds a record that references the photo.
"""

import os
import re
import tempfile

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import ApiError
from ..storage import blobs
from . import blob_store

THUMB_PX = 320
THUMB_QUALITY = 80
_SHA = re.compile(r"^[0-9a-f]{64}$")


def _not_found():
    return ApiError(404, "NOT_FOUND", "No such blob.")


def readable(conn, scope, blob_dir, sha256):
    """(blob row, file path) of a photo the caller may read; 404 otherwise."""
    if not _SHA.fullmatch(sha256 or ""):
        raise _not_found()
    row = blobs.get(conn, sha256)
    path = blob_store.path_for(blob_dir, sha256)
    if row is None or not os.path.exists(path):
        raise _not_found()
    if row["uploaded_by"] != scope.user_id and not any(
            scope.holds_grid(g) for g in blobs.referencing_grids(conn, sha256)):
        raise _not_found()
    return row, path


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
        raise _not_found() from None
    os.replace(tmp, thumb)
    return thumb
