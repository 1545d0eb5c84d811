"""Ids in chunks of 500: SQLite caps the number of `?` in one statement."""

CHUNK = 500


def chunks(values, size=CHUNK):
    """(chunk, marks) for each run of at most `size` values; marks is `?,?,…` for `IN (…)`."""
    values = list(values)
    for i in range(0, len(values), size):
        chunk = values[i : i + size]
        yield chunk, ",".join("?" * len(chunk))
