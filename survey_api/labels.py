"""The Chinese labels of every coded value (DESIGN §10, §11): one table, used by the
exports (``lang=zh``) and the console alike. JSON always carries the codes."""

STATUS = {
    "reported": "待受理",
    "accepted": "已受理",
    "assigned": "已交办",
    "rectifying": "整改中",
    "rectified": "待核验",
    "closed": "已销号",
    "rejected": "不予受理",
    "suspended": "已挂起",
}

URGENCY = {"normal": "一般", "urgent": "紧急"}

LEVEL = {"grid": "网格", "community": "社区", "street": "街道", "district": "区"}

SOURCE = {
    "visit": "入户走访",
    "hotline": "12345热线",
    "window": "窗口",
    "inspection": "巡查",
    "resident": "居民反映",
}

OUTCOME = {
    "met": "已见面",
    "not_home": "不在家",
    "refused": "拒访",
    "vacant": "空置",
    "moved": "已搬离",
}

TAG = {
    "elderly_alone": "独居老人",
    "elderly": "老年人",
    "low_income": "低保户",
    "disabled": "残疾人",
    "left_behind_child": "留守儿童",
    "veteran": "退役军人",
    "rental": "出租户",
    "vacant": "空置",
    "special_care": "特殊关爱",
}

ROLE = {
    "grid_worker": "网格员",
    "secretary": "社区书记",
    "street_admin": "街道管理员",
    "district_admin": "区管理员",
    "admin": "系统管理员",
}

# The console's action buttons. verify is two buttons, by its `ok` parameter.
ACTION = {
    "accept": "受理",
    "reject": "不予受理",
    "assign": "交办",
    "start": "开始整改",
    "rectify": "整改完成",
    "verify_ok": "核验通过",
    "verify_fail": "核验不通过",
    "escalate": "上报",
    "extend": "延期",
    "suspend": "挂起",
    "resume": "恢复",
    "supervise": "督办",
    "rate": "评价",
    "reopen": "重办",
}

# Event names in the 办理轨迹: the actions, plus the report that opens every problem.
EVENT = {
    "report": "上报问题",
    "verify": "核验",
    **{k: v for k, v in ACTION.items() if not k.startswith("verify")},
}

BOOL = {True: "是", False: "否"}

TABLES = {
    "status": STATUS,
    "urgency": URGENCY,
    "level": LEVEL,
    "source": SOURCE,
    "outcome": OUTCOME,
    "tag": TAG,
    "role": ROLE,
    "action": ACTION,
    "event": EVENT,
}


def label(kind, code):
    """The Chinese label of a code of the given kind; an unknown code reads as itself."""
    if code is None:
        return None
    return TABLES[kind].get(code, code)


def yes_no(value):
    """是 / 否 for a truthy value (SQLite's 0/1 included); None stays None."""
    if value is None:
        return None
    return BOOL[bool(value)]


def tags(codes, sep="、"):
    """A list of tag codes as their labels joined by sep."""
    return sep.join(TAG.get(c, c) for c in codes or ())


_TAG_CODES = {text: code for code, text in TAG.items()}


def tag_code(text):
    """The code of a tag given as its code or its Chinese label (独居老人 → elderly_alone);
    anything else as it is."""
    return _TAG_CODES.get(text, text)
