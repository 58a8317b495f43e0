"""Chinese labels (with English where it helps) for the vocabularies the pages show.

Unknown values fall back to the value itself, so a new enum member shows up as its code rather
than breaking a page.
"""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "matter": {
        "government_procurement": "政府采购 Government procurement",
        "bidding": "招标投标 Bidding",
        "subsidy": "财政补贴 Subsidy",
        "licensing": "行政许可 Licensing",
        "fast_track": "绿色通道 Fast track",
        "honours": "评优评先 Honours",
        "high_consumption": "高消费 High consumption",
    },
    "check_outcome": {
        "matched": "已确定主体 Party found",
        "ambiguous": "多个候选 Ambiguous",
        "not_found": "未找到 Not found",
    },
    "measure_effect": {
        "restricts": "限制 Restricts",
        "prohibits": "禁止 Prohibits",
        "favours": "激励 Favours",
    },
    "role": {
        "regulator": "监管机构 Regulator",
        "department": "数据提供部门 Department",
        "analyst": "分析人员 Analyst",
        "public": "公众 Public",
    },
    "kind": {
        "legal_entity": "法人 Legal entity",
        "individual_business": "个体工商户 Individual business",
        "natural_person": "自然人 Natural person",
        "other_organization": "非法人组织 Other organization",
    },
    "category": {
        "licensing": "行政许可 Licensing",
        "penalty": "行政处罚 Penalty",
        "list_entry": "失信名单 Black list",
        "red_list": "守信红名单 Red list",
        "tax_grade": "纳税信用等级 Tax grade",
        "customs_rating": "海关信用等级 Customs rating",
        "registry": "登记信息 Registry",
    },
    "severity": {
        "minor": "轻微 Minor",
        "general": "一般 General",
        "serious": "严重 Serious",
    },
    "status": {
        "active": "有效 Active",
        "repaired": "已修复 Repaired",
        "expired": "已到期 Expired",
        "revoked": "已撤销 Revoked",
        "disputed": "异议中 Disputed",
    },
    "id_type": {
        "uscc": "统一社会信用代码 USCC",
        "org_code": "组织机构代码 Org code",
        "registration_number": "注册号 Registration no.",
        "taxpayer_number": "纳税人识别号 Taxpayer no.",
        "resident_id": "居民身份证号 Resident ID",
        "masked_id": "脱敏证件号 Masked ID",
        "other": "其他 Other",
    },
    "field": {
        "name": "名称 Name",
        "legal_rep": "法定代表人 Legal representative",
        "address": "地址 Address",
        "birth_date": "出生日期 Birth date",
        "gender": "性别 Gender",
        "identifiers": "证件号 Identifiers",
        "phone": "电话 Phone",
        "postcode": "邮编 Postcode",
    },
    "gender": {"M": "男 Male", "F": "女 Female"},
    "review_status": {
        "pending": "待复核 Pending",
        "confirmed": "已确认同一主体 Confirmed",
        "rejected": "已否定 Rejected",
        "withdrawn": "已撤回（新模型判定非同一主体）Withdrawn by a newer model",
    },
    "repair_status": {
        "pending": "待审核 Pending",
        "approved": "已批准 Approved",
        "rejected": "已驳回 Rejected",
    },
    "objection_status": {
        "received": "已收到 Received",
        "open": "待答复 Open",
        "answered": "已答复 Answered",
        "corrected": "已更正 Corrected",
        "upheld": "维持原记录 Upheld",
    },
    "objection_kind": {
        "content": "内容异议 Content",
        "period": "公示期限异议 Period",
        "repair_result": "修复结果异议 Repair result",
    },
    "run_status": {
        "running": "运行中 Running",
        "succeeded": "成功 Succeeded",
        "failed": "失败 Failed",
    },
    "sharing": {
        "unconditional": "无条件共享 Unconditional",
        "conditional": "有条件共享 Conditional",
        "not_shared": "不予共享 Not shared",
    },
    "decision": {
        "positive": "匹配 Match",
        "negative": "不匹配 No match",
        "unsure": "不确定 Unsure",
    },
    "decided_by": {"rule": "规则 Rule", "reviewer": "人工 Reviewer"},
    "list_kind": {"black": "黑名单 Black list", "red": "红名单 Red list"},
    "effect": {
        "A": "A",
        "B": "B",
        "C": "C",
        "D": "D",
        "lift": "上调 Lift",
        "positive": "正面 Positive",
    },
}


def label(vocabulary: str, value: object) -> str:
    """The label of ``value`` in ``vocabulary``; the value itself when there is none."""
    if value is None:
        return "—"
    text = str(value)
    return LABELS.get(vocabulary, {}).get(text, text)


def choices(vocabulary: str) -> list[tuple[str, str]]:
    """(value, label) pairs of a vocabulary, for ``<select>`` options."""
    return list(LABELS[vocabulary].items())
