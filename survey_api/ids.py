"""Ids the server makes for rows only it creates (a problem's events).

They are time-ordered UUIDs (RFC 9562 version 7: 48 bits of Unix milliseconds, then random
bits), so each new row's key lands at the end of its primary-key index instead of on a random
page of it: a 500-item push that reports 65 problems wrote 78 pages of the events' key index
with random (version 4) ids, and a page or two with these. Records the phones create keep the
phone's own ids.
"""

import os
import time
import uuid

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0x2 << 62
_RANDOM_MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 80) - 1)


def time_ordered():
    """A new version-7 UUID as text: later calls sort after earlier ones (by millisecond)."""
    random_bits = int.from_bytes(os.urandom(10), "big") & _RANDOM_MASK
    value = (time.time_ns() // 1_000_000) << 80 | _VERSION_7 | _VARIANT_RFC | random_bits
    return str(uuid.UUID(int=value))
