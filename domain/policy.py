"""The defaults PROCESS.md gives where the policy document is silent — configuration, not code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """Lengths and counts the bureau may configure."""

    notice_working_days: int = 5
    term_years: int = 3
    creation_years: int = 3  # §1.1 创建期限为3年: a creation period not bounded by its call's years
    review_window_months: int = 3
    rectification_months: int = 6
    panel_method: str = "mean"
    min_panel_size: int = 3
    annual_report_month: int = 1
    annual_report_day: int = 31
    objector_retention_years: int = 3  # PIPL: objectors' names and contacts are erased this long after the case closes
