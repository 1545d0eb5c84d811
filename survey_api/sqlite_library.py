"""Process-wide settings of the SQLite library, made once before any connection opens.

SQLite keeps memory statistics by default (SQLITE_CONFIG_MEMSTATUS): every allocation and
free takes one process-wide mutex to count the bytes. Debian's library is built without
the lookaside allocator, so every row of a query allocates, and that mutex is taken
millions of times per export. It costs single-threaded work about a third of SQLite's
time, and it makes two threads reading side by side slower than one.

Nothing here reads the statistics, so they are switched off. Python's sqlite3 module offers
no way to call sqlite3_config(), so ctypes calls the library the module is linked with.
sqlite3_config() is refused once the library is initialised, which the module does on
import: the library is shut down, configured and initialised again. This is only safe
while nothing holds SQLite memory, so it is done only when the library's memory
statistics report no bytes in use (no connection, statement or cache exists).
"""

import ctypes
import logging

_SQLITE_OK = 0
_SQLITE_CONFIG_MEMSTATUS = 9

log = logging.getLogger(__name__)
_done = False


def _library():
    """The SQLite library the sqlite3 module uses (its symbols are found through the
    module's extension, whichever library file it is linked with), or None."""
    try:
        import _sqlite3

        library = ctypes.CDLL(_sqlite3.__file__)
        library.sqlite3_config  # noqa: B018 (a missing symbol raises here)
    except (ImportError, AttributeError, OSError):
        return None
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return library


def disable_memory_statistics():
    """Switch SQLite's memory statistics off for this process; returns whether they are
    off (False when the library cannot be reached or something already holds memory)."""
    global _done
    if _done:
        return True
    library = _library()
    if library is None or library.sqlite3_memory_used() != 0:
        log.info("SQLite memory statistics left on (library not reachable or in use)")
        return False
    if library.sqlite3_shutdown() != _SQLITE_OK:
        return False
    configured = library.sqlite3_config(_SQLITE_CONFIG_MEMSTATUS, ctypes.c_int(0)) == _SQLITE_OK
    if library.sqlite3_initialize() != _SQLITE_OK:
        raise RuntimeError("SQLite could not be initialised again")
    _done = configured
    return configured
