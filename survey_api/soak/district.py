"""The soak's own small instance: a migrated database with 8 grids and the users that act."""

import os

from ..db import connect, write_tx
from ..migrations import migrate
from ..passwords import hash_password
from ..storage import units as unit_store
from ..storage import users as user_store

PASSWORD = "soak-password-1"
DISTRICT = "370303"
COMMUNITY = "370303001001"
UNITS = [
    (DISTRICT, "张店区", "district", None),
    ("370303001000", "车站街道", "street", DISTRICT),
    (COMMUNITY, "杏园社区", "community", "370303001000"),
    ("370303001002", "华光社区", "community", "370303001000"),
    *[(f"370303001001-0{i}", f"杏园{i}网格", "grid", COMMUNITY) for i in range(1, 5)],
    *[(f"370303001002-0{i}", f"华光{i}网格", "grid", "370303001002") for i in range(1, 5)],
]
GRIDS = [code for code, _, level, _ in UNITS if level == "grid"]
# username -> (role, units): one phone per grid, the secretary of 杏园社区, the district admin.
USERS = {
    **{f"phone{i + 1}": ("grid_worker", [grid]) for i, grid in enumerate(GRIDS)},
    "secretary": ("secretary", [COMMUNITY]),
    "district": ("district_admin", [DISTRICT]),
}


def create(folder):
    """Make `folder` an instance folder with the soak district; returns the database path."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "survey.db")
    conn = connect(path)
    try:
        migrate(conn)
        password_hash = hash_password(PASSWORD)
        with write_tx(conn):
            for code, name, level, parent in UNITS:
                unit_store.upsert(conn, code, name, level, parent)
            for username, (role, units) in USERS.items():
                user_store.create(
                    conn,
                    username=username,
                    password_hash=password_hash,
                    role=role,
                    unit_codes=units,
                    display_name=username,
                )
    finally:
        conn.close()
    return path
