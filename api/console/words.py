"""The console's bilingual labels (中文 first, English beside)."""

from __future__ import annotations

STATUS = {
    "applied": "已申请 applied",
    "returned": "退回补正 returned",
    "rejected": "不予受理 rejected",
    "accepted": "创建期 in creation",
    "assessment_requested": "申请评估 assessment requested",
    "assessment_accepted": "评估受理 assessment accepted",
    "assessing": "专家评估中 assessing",
    "assessed": "评估通过 assessed",
    "not_passed": "评估未通过 not passed",
    "in_notice": "公示中 in notice",
    "recommended": "已提请 recommended",
    "granted": "已授予 granted",
    "in_review": "复核中 in review",
    "review_passed": "复核通过 review passed",
    "rectifying": "整改中 rectifying",
    "revoked": "已撤销 revoked",
}
DEADLINES = {
    "annual_report_overdue": "年度报告截止 annual report due",
    "creation_period_ended": "创建期届满 creation period ends",
    "notice_ended": "公示期满 notice period ends",
    "rectification_overdue": "整改期满 rectification due",
    "review_window_opened": "复核申请窗口 review window opens",
    "title_expired": "称号到期 title expires",
}
RATINGS = {"excellent": "优秀 excellent", "good": "良好 good", "pass": "合格 pass", "fail": "不合格 fail"}
OBJECTIONS = {"open": "待处理 open", "upheld": "成立 upheld", "dismissed": "不成立 dismissed"}
MEASURES = {
    "revenue": "营业收入 revenue",
    "employees": "从业人员 employees",
    "firms_over_20m": "营收超2000万元企业 firms over 20 m",
    "new_firms_over_20m": "新增营收超2000万元企业 new firms over 20 m",
    "firms_over_100m": "营收超1亿元企业 firms over 100 m",
    "firms_over_500m": "营收超5亿元企业 firms over 500 m",
    "firms_over_1bn": "营收超10亿元企业 firms over 1 bn",
    "platforms": "服务平台 platforms",
    "new_platforms": "新增服务平台 new platforms",
    "rd_spend": "研发投入 R&D spend",
    "bachelor_share": "本科以上占比 bachelor share",
}
EVENTS = {
    "Applied": "提交申请 applied",
    "FormallyAccepted": "形式审查通过 formally accepted",
    "FormallyReturned": "退回补正 returned",
    "FormallyRejected": "不予受理 rejected",
    "Supplemented": "补正材料 supplemented",
    "AssessmentRequested": "申请评估 assessment requested",
    "AssessmentRequestAccepted": "受理评估申请 assessment request accepted",
    "PanelAppointed": "组建专家组 panel appointed",
    "ConflictDeclared": "申报利益冲突 conflict declared",
    "ExpertRecused": "专家回避 expert recused",
    "ScoresFiled": "专家评分 scores filed",
    "Assessed": "评估结论 assessed",
    "Publicized": "发布公示 notice published",
    "ObjectionRaised": "提出异议 objection raised",
    "ObjectionResolved": "异议处理 objection resolved",
    "NoticeEnded": "公示期满 notice ended",
    "Recommended": "提请授予 recommended",
    "Granted": "授予称号 granted",
    "AnnualReportFiled": "提交年度报告 annual report filed",
    "AnnualReportEvaluated": "年度评价 annual report evaluated",
    "AnnualReportOverdue": "年度报告逾期 annual report overdue",
    "ReviewRequested": "申请复核 review requested",
    "ReviewDecided": "复核结论 review decided",
    "Revoked": "撤销 revoked",
}
RULES = {
    "deadline_recorded_late": "期限记录迟延 deadline recorded late",
    "missing_annual_report": "缺少年度报告 missing annual report",
    "late_annual_report": "年度报告迟交 late annual report",
}
