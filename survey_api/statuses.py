"""The problem statuses and the groups the rules speak of (DESIGN §4)."""

REPORTED, ACCEPTED, ASSIGNED = "reported", "accepted", "assigned"
RECTIFYING, RECTIFIED, CLOSED = "rectifying", "rectified", "closed"
REJECTED, SUSPENDED = "rejected", "suspended"
STATUSES = (REPORTED, ACCEPTED, ASSIGNED, RECTIFYING, RECTIFIED, CLOSED, REJECTED, SUSPENDED)
# "open" = neither closed nor rejected (§4).
OPEN = (REPORTED, ACCEPTED, ASSIGNED, RECTIFYING, RECTIFIED, SUSPENDED)
# The rectification is done (waiting for its check, or checked).
DONE = (RECTIFIED, CLOSED)
