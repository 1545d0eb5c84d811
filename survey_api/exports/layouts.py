"""What each export carries: its columns (Appendix A order), title word and file name."""

from .columns import Column

C = Column

PROBLEM_LIST = [
    C("seq", "序号", "int", 6),
    C("number", "问题编号", "text", 22),
    C("reported_at", "发现日期", "datetime", 17),
    C("source", "来源", "text", 10),
    C("grid_code", "网格编码", "text", 17),
    C("grid_name", "网格", "text", 14),
    C("address", "地址", "text", 28),
    C("category", "类别编码", "text", 18),
    C("category_name", "类别", "text", 14),
    C("description", "问题描述", "text", 40),
    C("urgency", "紧急程度", "text", 9),
    C("status", "状态", "text", 11),
    C("level", "层级", "text", 10),
    C("responsible_unit", "责任单位", "text", 18),
    C("responsible_person", "责任人", "text", 12),
    C("measures", "整改措施", "text", 30),
    C("due_at", "整改时限", "datetime", 17),
    C("rectified_at", "完成时间", "datetime", 17),
    C("closed_at", "销号时间", "datetime", 17),
    C("overdue", "是否超期", "bool", 9),
    C("supervised", "督办", "bool", 9),
    C("rating", "满意度", "int", 8),
    C("cost_share_resident", "费用分担(居民)", "number", 12),
    C("cost_share_society", "费用分担(社会)", "number", 12),
    C("cost_share_subsidy", "费用分担(街道)", "number", 12),
    C("head_name", "户主姓名", "text", 12),
    C("phone", "联系电话", "text", 15),
]

RECTIFICATION_LIST = [
    C("seq", "序号", "int", 6),
    C("number", "问题编号", "text", 22),
    C("description", "问题描述", "text", 40),
    C("category_name", "类别", "text", 14),
    C("measures", "整改措施", "text", 30),
    C("responsible_unit", "责任单位", "text", 18),
    C("responsible_person", "责任人", "text", 12),
    C("accepted_at", "受理时间", "datetime", 17),
    C("due_at", "整改时限", "datetime", 17),
    C("due_estimated", "时限为估算", "bool", 10),
    C("rectified_at", "完成时间", "datetime", 17),
    C("verified_at", "验收时间", "datetime", 17),
    C("status", "状态", "text", 11),
    C("overdue", "是否超期", "bool", 9),
    C("supervised", "督办", "bool", 9),
    C("rating", "满意度", "int", 8),
    C("cost_share_resident", "费用分担(居民)", "number", 12),
    C("cost_share_society", "费用分担(社会)", "number", 12),
    C("cost_share_subsidy", "费用分担(街道)", "number", 12),
]

# The ledger export has one row per visit in the period, and one row (visit columns
# empty) per household not visited at all; `seq` numbers households.
VISIT_LEDGER = [
    C("seq", "序号", "int", 6),
    C("household_id", "住户ID", "text", 38),
    C("address", "地址", "text", 28),
    C("building", "楼栋", "text", 8),
    C("unit_no", "单元", "text", 8),
    C("room", "房号", "text", 8),
    C("head_name", "户主姓名", "text", 12),
    C("phone", "联系电话", "text", 15),
    C("tags", "标签", "text", 20),
    C("visited", "是否走访", "bool", 9),
    C("visited_at", "走访时间", "datetime", 17),
    C("outcome", "走访结果", "text", 10),
    C("visitor", "走访人", "text", 12),
    C("notes", "民情日记", "text", 40),
]

SUMMARY_METRICS = [
    C("households", "户数", "int", 10),
    C("visited", "已走访户数", "int", 10),
    C("coverage_pct", "走访覆盖率(%)", "number", 12),
    C("problems", "发现问题数", "int", 10),
    C("rectified", "已整改数", "int", 10),
    C("rectification_rate_pct", "整改率(%)", "number", 12),
    C("on_time_rate_pct", "按期整改率(%)", "number", 12),
    C("overdue", "超期数", "int", 9),
    C("supervised", "督办数", "int", 9),
    C("rated", "已评价数", "int", 9),
    C("satisfaction_rate_pct", "满意率(%)", "number", 12),
]

SUMMARY = [
    C("code", "单位编码", "text", 18),
    C("name", "单位", "text", 16),
    C("level", "层级", "text", 10),
    *SUMMARY_METRICS,
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
