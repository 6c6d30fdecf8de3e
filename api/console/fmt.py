"""How the console writes numbers, instants and charts: as people write them (2.4, 80.0 %, 12.3 亿元, Asia/Shanghai),
and each chart as a server-rendered SVG whose numbers the page repeats in a table."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from markupsafe import escape

from domain.values import days_hours_minutes
from domain.values import local_minute
from domain.values import span_in_english


def num(value: Any, places: int = 2) -> str:
    """A number with at most ``places`` decimals, no trailing zeros and no float artefacts (2.4, 78.4, 32)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return str(value)
    d = Decimal(repr(value) if isinstance(value, float) else value).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )
    text = f"{d:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def pct(share: Any) -> str:
    """A share (0.8) as a percentage with one decimal (80.0 %)."""
    if share is None:
        return "—"
    d = (Decimal(repr(share)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{d} %"


def yuan(value: Any) -> str:
    """An amount in yuan in 亿元 (1 亿 = 10⁸), one decimal (12.3 亿元); small amounts in 万元."""
    if value is None:
        return "—"
    d = Decimal(repr(value) if isinstance(value, float) else value)
    if abs(d) >= 10**8:
        return f"{(d / 10**8).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)} 亿元"
    return f"{num(d / 10**4, 1)} 万元"


MONEY = ("revenue", "base_revenue", "rd_spend", "city_funds", "local_funds")
SHARES = ("bachelor_share", "industry_rd_intensity", "matching_ratio")


def measure(name: str, value: Any) -> str:
    """A statistic as written for its kind: money in 亿元, shares as percentages, counts as counts."""
    if name in MONEY:
        return yuan(value)
    if name in SHARES and name != "matching_ratio":
        return pct(value)
    return num(value)


def shanghai(instant: Any) -> str:
    """An ISO instant in Asia/Shanghai, to the minute, with its offset."""
    if not instant:
        return "—"
    return local_minute(instant if isinstance(instant, datetime) else datetime.fromisoformat(str(instant)))


def lag(seconds: Any) -> str:
    """A lag in seconds as days, hours and minutes (2 天 3 小时 5 分 · 2 d 3 h 5 min)."""
    if seconds is None or seconds == "":
        return "—"
    d, h, m = days_hours_minutes(float(seconds))
    zh = "".join(f"{n} {u}" + " " for n, u in ((d, "天"), (h, "小时"), (m, "分")) if n).strip() or "不足1分"
    return f"{zh} · {span_in_english(float(seconds))}"


def count(n: int, noun: str) -> str:
    """A count with its English noun, singular for one (1 zone, 2 zones; 1 finding; 0 events)."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def short_hash(value: Any) -> str:
    """A hash shown compactly (its first 12 hex digits and an ellipsis); the whole one goes in a title."""
    text = str(value or "")
    return text[:12] + "…" if len(text) > 12 else text or "—"


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar chart: the bar (``value``), an outline it is measured against (``reference``:
    an indicator's weight, a plan's target) and markers (each expert's score)."""

    label: str
    value: float | None
    reference: float | None = None
    marks: list[tuple[str, float]] = field(default_factory=list)


ROW, LABEL, WIDTH = 22, 150, 620


def text_width(text: str, size: float = 11) -> float:
    """A generous estimate of how wide ``text`` is drawn at ``size`` px: a CJK character a full em, others 0.6 em."""
    return sum(size if ord(ch) >= 0x2E80 else 0.6 * size for ch in text)


def bar_chart(chart_id: str, title: str, bars: list[Bar], *, value_name: str, reference_name: str = "") -> Markup:
    """A horizontal bar chart as SVG: for each row the bar, its reference outlined, the markers as ticks. A title
    and a description for screen readers; the page shows the same numbers in a table beside it."""
    numbers = [b.value or 0 for b in bars] + [b.reference or 0 for b in bars]
    numbers += [v for b in bars for _, v in b.marks]
    top = max([float(n) for n in numbers] + [1e-9])
    span = WIDTH - LABEL - 60
    height = ROW * len(bars) + 30

    def x(v: float) -> float:
        return round(LABEL + span * float(v) / top, 1)

    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="{escape(chart_id)}-t" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
    ]
    for i, b in enumerate(bars):
        y = 10 + i * ROW
        parts.append(
            f'<text x="{LABEL - 6}" y="{y + 14}" text-anchor="end" class="label">{escape(b.label[:22])}</text>'
        )
        if b.reference is not None:
            w = x(b.reference) - LABEL
            parts.append(f'<rect x="{LABEL}" y="{y + 2}" width="{w:.1f}" height="16" class="reference"/>')
        if b.value is not None:
            w = x(b.value) - LABEL
            parts.append(f'<rect x="{LABEL}" y="{y + 5}" width="{w:.1f}" height="10" class="value"/>')
            parts.append(f'<text x="{x(b.value) + 4}" y="{y + 14}" class="number">{escape(num(b.value))}</text>')
        for name, v in b.marks:
            parts.append(
                f'<line x1="{x(v)}" x2="{x(v)}" y1="{y}" y2="{y + 20}" class="mark">'
                f"<title>{escape(name)}: {escape(num(v))}</title></line>"
            )
    legend_y = height - 6
    legend = [("value", value_name)] + ([("reference", reference_name)] if reference_name else [])
    legend += [("mark", "专家评分 expert scores")] if any(b.marks for b in bars) else []
    at = LABEL
    for kind, text in legend:  # one after the other, each as wide as its text, so that none runs off the chart
        if kind == "mark":
            parts.append(f'<line x1="{at + 5}" x2="{at + 5}" y1="{legend_y - 10}" y2="{legend_y}" class="mark"/>')
        else:
            parts.append(f'<rect x="{at}" y="{legend_y - 9}" width="10" height="10" class="{kind}"/>')
        parts.append(f'<text x="{at + 14}" y="{legend_y}" class="legend">{escape(text)}</text>')
        at = round(at + 14 + text_width(text) + 24)
    parts.append("</svg>")
    return Markup("".join(parts))
