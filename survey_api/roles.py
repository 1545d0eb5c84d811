"""The five roles, their rank and the unit level each one is bound to."""

GRID_WORKER = "grid_worker"
SECRETARY = "secretary"
STREET_ADMIN = "street_admin"
DISTRICT_ADMIN = "district_admin"
ADMIN = "admin"

ROLES = (GRID_WORKER, SECRETARY, STREET_ADMIN, DISTRICT_ADMIN, ADMIN)
RANK = {role: rank for rank, role in enumerate(ROLES)}

# The level of unit a user of each role is bound to (admin has none).
UNIT_LEVEL = {
    GRID_WORKER: "grid",
    SECRETARY: "community",
    STREET_ADMIN: "street",
    DISTRICT_ADMIN: "district",
}

LEVELS = ("grid", "community", "street", "district")
UNIT_LEVELS = ("district", "street", "community", "grid")
PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}
