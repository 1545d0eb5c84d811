"""Photo files on disk: content-addressed, written atomically, type checked by magic bytes."""

import hashlib
import os
import tempfile

from ..errors import ApiError

CHUNK = 64 * 1024


def _is_heic(head):
    return head[4:8] == b"ftyp" and head[8:12] in (
        b"heic",
        b"heix",
        b"hevc",
        b"hevx",
        b"heim",
        b"heis",
        b"mif1",
        b"msf1",
    )


MAGIC = {
    "image/jpeg": lambda h: h[:3] == b"\xff\xd8\xff",
    "image/png": lambda h: h[:8] == b"\x89PNG\r\n\x1a\n",
    "image/webp": lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP",
    "image/heic": _is_heic,
}


def path_for(blob_dir, sha256):
    return os.path.join(blob_dir, sha256[:2], sha256)


def _check(digest, head, sha256, content_type):
    if digest.hexdigest() != sha256:
        raise ApiError(400, "HASH_MISMATCH", "The body's sha256 differs from the one in the path.")
    if not MAGIC[content_type](head):
        raise ApiError(415, "UNSUPPORTED_MEDIA_TYPE", f"The body is not a {content_type} image.")


def verify(stream, sha256, content_type, max_bytes):
    """Read a body without keeping it, checking size, hash and magic bytes as receive() does
    (a re-upload of a stored photo). Returns the size."""
    digest, size, head = hashlib.sha256(), 0, b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(413, "PAYLOAD_TOO_LARGE", f"A photo may be at most {max_bytes} bytes.")
        if len(head) < 16:
            head = (head + chunk)[:16]
        digest.update(chunk)
    _check(digest, head, sha256, content_type)
    return size


def receive(stream, blob_dir, sha256, content_type, max_bytes):
    """Spool the body to a temp file while hashing; check size, hash and magic bytes.

    Returns (temp path, size). Raises 413/400/415 (and removes the temp file).
    """
    os.makedirs(os.path.join(blob_dir, sha256[:2]), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.join(blob_dir, sha256[:2]), prefix=".upload-")
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(fd, "wb") as f:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise ApiError(
                        413, "PAYLOAD_TOO_LARGE", f"A photo may be at most {max_bytes} bytes."
                    )
                if len(head) < 16:
                    head = (head + chunk)[:16]
                digest.update(chunk)
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        _check(digest, head, sha256, content_type)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp, size


def commit(tmp, blob_dir, sha256):
    """Move the checked temp file into place (atomic) and make the rename durable."""
    final = path_for(blob_dir, sha256)
    os.replace(tmp, final)
    dir_fd = os.open(os.path.dirname(final), os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final
