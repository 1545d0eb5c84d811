"""What each export carries: its columns (Appendix A order, 剩余时限 after 整改时限), title
word and print widths.

Widths are in Excel character units, chosen so that a list printed on A4 landscape, fit to one
page wide, stays readable: long text wraps at its column's width (wrap=True) instead of
widening the page.
"""

from .columns import Column

C = Column

# 剩余时限 (DESIGN §11): 剩N个工作日 | 超期N个工作日 | 已完成 | empty (deadlines.TimeLeft).
TIME_LEFT = C("time_left", "剩余时限", "text", 11, wrap=True)

COST_SHARES = [
    C("cost_share_resident", "费用分担(居民)", "number", 8),
    C("cost_share_society", "费用分担(社会)", "number", 8),
    C("cost_share_subsidy", "费用分担(街道)", "number", 8),
]

PROBLEM_LIST = [
    C("seq", "序号", "int", 5),
    C("number", "问题编号", "text", 12, wrap=True),
    C("reported_at", "发现日期", "datetime", 17),
    C("source", "来源", "text", 9, label="source", wrap=True),
    C("grid_code", "网格编码", "text", 12, wrap=True),
    C("grid_name", "网格", "text", 10, wrap=True),
    C("address", "地址", "text", 20, wrap=True),
    C("category", "问题大类", "text", 9, zh_key="category_group", wrap=True),
    C("category_name", "类别", "text", 10, wrap=True),
    C("description", "问题描述", "text", 28, wrap=True),
    C("urgency", "紧急程度", "text", 6, label="urgency"),
    C("status", "状态", "text", 8, label="status", wrap=True),
    C("level", "层级", "text", 6, label="level"),
    C("responsible_unit", "责任单位", "text", 12, wrap=True),
    C("responsible_person", "责任人", "text", 8, wrap=True),
    C("measures", "整改措施", "text", 22, wrap=True),
    C("due_at", "整改时限", "datetime", 17),
    TIME_LEFT,
    C("rectified_at", "完成时间", "datetime", 17),
    C("closed_at", "销号时间", "datetime", 17),
    C("overdue", "是否超期", "bool", 6),
    C("supervised", "督办", "bool", 6),
    C("rating", "满意度", "int", 6),
    *COST_SHARES,
    C("head_name", "户主姓名", "text", 8, wrap=True),
    C("phone", "联系电话", "text", 12),
]

RECTIFICATION_LIST = [
    C("seq", "序号", "int", 5),
    C("number", "问题编号", "text", 12, wrap=True),
    C("description", "问题描述", "text", 28, wrap=True),
    C("category_name", "类别", "text", 10, wrap=True),
    C("measures", "整改措施", "text", 24, wrap=True),
    C("responsible_unit", "责任单位", "text", 12, wrap=True),
    C("responsible_person", "责任人", "text", 8, wrap=True),
    C("accepted_at", "受理时间", "datetime", 17),
    C("due_at", "整改时限", "datetime", 17),
    TIME_LEFT,
    C("due_estimated", "时限为估算", "bool", 6),
    C("rectified_at", "完成时间", "datetime", 17),
    C("verified_at", "验收时间", "datetime", 17),
    C("status", "状态", "text", 8, label="status", wrap=True),
    C("overdue", "是否超期", "bool", 6),
    C("supervised", "督办", "bool", 6),
    C("rating", "满意度", "int", 6),
    *COST_SHARES,
]

# The ledger export has one row per visit in the period, and one row (visit columns
# empty) per household not visited at all; `seq` numbers households.
VISIT_LEDGER = [
    C("seq", "序号", "int", 5),
    C("household_id", "住户ID", "text", 20, wrap=True),
    C("address", "地址", "text", 20, wrap=True),
    C("building", "楼栋", "text", 6),
    C("unit_no", "单元", "text", 6),
    C("room", "房号", "text", 6),
    C("head_name", "户主姓名", "text", 8, wrap=True),
    C("phone", "联系电话", "text", 12),
    C("tags", "标签", "text", 12, label="tag", wrap=True),
    C("visited", "是否走访", "bool", 6),
    C("visited_at", "走访时间", "datetime", 17),
    C("outcome", "走访结果", "text", 8, label="outcome"),
    C("visitor", "走访人", "text", 8, wrap=True),
    C("notes", "民情日记", "text", 30, wrap=True),
]

SUMMARY_METRICS = [
    C("households", "户数", "int", 8),
    C("visited", "已走访户数", "int", 8),
    C("coverage_pct", "走访覆盖率(%)", "number", 9),
    C("problems", "发现问题数", "int", 8),
    C("rectified", "已整改数", "int", 8),
    C("rectification_rate_pct", "整改率(%)", "number", 9),
    C("on_time_rate_pct", "按期整改率(%)", "number", 9),
    C("overdue", "超期数", "int", 7),
    C("supervised", "督办数", "int", 7),
    C("rated", "已评价数", "int", 7),
    C("satisfaction_rate_pct", "满意率(%)", "number", 9),
]

SUMMARY = [
    C("code", "单位编码", "text", 13, wrap=True),
    C("name", "单位", "text", 12, wrap=True),
    C("level", "层级", "text", 6, label="level"),
    *SUMMARY_METRICS,
]


def summary_columns(leaf_categories):
    """The summary's columns: the metrics, then one count per leaf category [(code, name)]."""
    return [
        *SUMMARY,
        *(
            C(f"problems_by_category.{code}", f"问题数-{name}", "int", 8)
            for code, name in leaf_categories
        ),
    ]


# list name → (columns, Chinese title word, English title word)
LAYOUTS = {
    "problem-list": (PROBLEM_LIST, "问题清单", "Problem list"),
    "rectification-list": (RECTIFICATION_LIST, "整改清单", "Rectification list"),
    "visit-ledger": (VISIT_LEDGER, "走访台账", "Visit ledger"),
    "summary": (SUMMARY, "汇总统计", "Summary"),
}


def title_word(list_name, lang):
    _columns, zh, en = LAYOUTS[list_name]
    return zh if lang == "zh" else en
