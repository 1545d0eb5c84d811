"""The two-level problem category list every new database starts with."""

CATEGORIES = [
    (
        "safety",
        "安全隐患",
        [
            ("safety.flying_wires", "飞线充电"),
            ("safety.fire", "消防隐患"),
            ("safety.structure", "房屋设施安全"),
        ],
    ),
    ("heating", "供暖", [("heating.no_heat", "不供暖或温度不达标")]),
    ("traffic", "交通出行", [("traffic.parking", "乱停车占道"), ("traffic.road", "道路破损")]),
    (
        "sanitation",
        "环境卫生",
        [
            ("sanitation.garbage", "垃圾堆放"),
            ("sanitation.sewage", "污水排水"),
        ],
    ),
    (
        "facilities",
        "老旧小区设施",
        [
            ("facilities.lighting", "照明"),
            ("facilities.elevator", "电梯"),
            ("facilities.pipes", "水电气管网"),
        ],
    ),
    ("dispute", "矛盾纠纷", [("dispute.neighbour", "邻里纠纷"), ("dispute.property", "物业纠纷")]),
    ("care", "民生关爱", [("care.elderly", "独居老人关爱"), ("care.hardship", "困难帮扶")]),
    ("other", "其他", [("other.other", "其他")]),
]

DEFAULT_WORKING_DAYS = 3


def seed_categories(conn):
    sort = 0
    for code, name, leaves in CATEGORIES:
        sort += 1
        conn.execute(
            "INSERT OR IGNORE INTO categories (code, name, parent_code, working_days, sort) "
            "VALUES (?, ?, NULL, NULL, ?)",
            (code, name, sort),
        )
        for leaf_code, leaf_name in leaves:
            sort += 1
            conn.execute(
                "INSERT OR IGNORE INTO categories (code, name, parent_code, working_days, sort) "
                "VALUES (?, ?, ?, ?, ?)",
                (leaf_code, leaf_name, code, DEFAULT_WORKING_DAYS, sort),
            )
