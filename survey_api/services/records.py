"""Who may see a stored household, visit or problem: one rule for the three synced records.

A record is visible to a caller whose scope holds its grid. An unknown id and a record outside
the scope answer alike (404, no existence leak); a tombstone of a visible record is 410.
"""

from ..errors import ApiError


def visible(scope, row):
    """The stored row exists and lies in one of the caller's grids."""
    return row is not None and scope.holds_grid(row["grid_code"])


def visible_row(scope, row, noun):
    """row (a dict) when the caller may see it: 404 otherwise, 410 for a tombstone (visits
    are append-only: they have none). noun: 'household', 'visit' or 'problem'."""
    if not visible(scope, row):
        raise ApiError(404, "NOT_FOUND", f"No such {noun}.")
    if row.get("deleted"):
        raise ApiError(410, "GONE", f"This {noun} was deleted.")
    return row
