"""Input shaping (录入): a command's raw values checked and cleaned into what its event records."""

from __future__ import annotations

import re
from datetime import date
from datetime import datetime
from typing import Any

from domain.conditions import MATERIAL_KINDS
from domain.conditions import WAIVABLE_CONDITIONS
from domain.errors import ConditionsNotMetError
from domain.errors import InvalidValueError
from domain.indicators import STATISTICS_FIELDS
from domain.indicators import IndicatorSystem
from domain.integrity import sha256_text

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Text refuses the C0 and C1 controls but tab, newline and carriage return (CRLF comes with text pasted from
# Windows), DEL, the bidirectional embeddings, overrides and isolates (they reorder what a reader sees), and
# lone surrogates (no UTF-8 carries them). One rule: the HTTP schemas use it too.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# The days the service computes with: an instant or day outside them is refused (a deadline years ahead of
# 9999-12-31 overflows, as does 0001-01-01 in a time zone west of UTC).
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
AREA_TYPES = ("park", "committee", "town")
ASSESSMENT_METHODS = ("document_review", "site_visit", "key_interviews", "symposium")
RATINGS = ("excellent", "good", "pass", "fail")
OBJECTION_CHANNELS = ("letter", "phone", "visit", "email")  # how the bureau received an objection it registers
REVOCATION_REASONS = ("statistics_duty", "concealment", "fraud")  # §6.6: 不履行统计义务、隐瞒事实、弄虚作假
# The revocations the process itself records (§6.4, §6.5, and the creation qualification cancelled once the
# creation period ended with no grant, §1.1), each with the details it records.
PROCESS_REVOCATIONS = {
    "creation_period_ended": "创建期满未获授予，取消创建资格 (the creation period ended with no grant; §1.1, §3.4)",
    "no_review_request": "逾期未提出复核申请 (§6.5)",
    "review_failed_after_rectification": "The review failed again after the rectification period (§6.4).",
    "rectification_not_submitted": "The rectification period ended with nothing submitted (整改期满未提交整改, §6.4).",
}


def instant(at: datetime) -> None:
    """An instant must carry its offset."""
    if at.tzinfo is None:
        raise InvalidValueError("Instants must carry a time zone offset.")
    if not EARLIEST <= at.date() <= LATEST:
        raise InvalidValueError(f"Instants must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}.")


def unprintable(value: str) -> str | None:
    """The first character text may not carry, as ``U+0000 at N`` (its code point in hex, its position); None when
    there is none."""
    found = UNPRINTABLE.search(value)
    return None if found is None else f"U+{ord(found.group()):04X} at {found.start()}"


def printable(value: str, field: str) -> str:
    """``value`` unless it carries a control character or a bidirectional control (``UNPRINTABLE``)."""
    if (found := unprintable(value)) is not None:
        raise InvalidValueError(
            f"{field} must not contain control characters or bidirectional controls ({found}).",
            [{"loc": [field], "msg": "a control character or bidirectional control"}],
        )
    return value


def text(value: Any, field: str, *, required: bool = True, limit: int = 20000) -> str:
    """A text field, stripped; ``""`` for an optional one not given."""
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidValueError(f"{field} must be given as text.", [{"loc": [field], "msg": "text required"}])
    if len(value) > limit:
        raise InvalidValueError(f"{field} is longer than {limit} characters.", [{"loc": [field], "msg": "too long"}])
    return printable(value, field).strip()


def document_refs(value: Any, field: str, *, kinds: bool) -> list[dict[str, Any]]:
    """Document references (SHA-256 and name, with the material kind where ``kinds``)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidValueError(f"{field} must be a list.", [{"loc": [field], "msg": "list required"}])
    out = []
    errors: list[dict[str, Any]] = []
    for i, ref in enumerate(value):
        if not isinstance(ref, dict):
            errors.append({"loc": [field, i], "msg": "a document reference is an object"})
            continue
        sha = ref.get("sha256")
        name = ref.get("name")
        if not isinstance(sha, str) or not SHA256.match(sha):
            errors.append({"loc": [field, i, "sha256"], "msg": "64 lowercase hex digits required"})
        if not isinstance(name, str) or not name.strip():
            errors.append({"loc": [field, i, "name"], "msg": "a document name is required"})
        if isinstance(name, str) and unprintable(name):
            errors.append({"loc": [field, i, "name"], "msg": "a control character or bidirectional control"})
        item = {"sha256": sha, "name": name}
        if kinds:
            kind = ref.get("kind")
            if kind not in MATERIAL_KINDS:
                errors.append({"loc": [field, i, "kind"], "msg": f"kind must be one of {', '.join(MATERIAL_KINDS)}"})
            item = {"kind": kind, **item}
        out.append(item)
    if errors:
        raise InvalidValueError(f"{field} contains invalid document references.", errors)
    return out


def statistics(value: Any, field: str, *, revenue_required: bool) -> dict[str, Any]:
    """Reported statistics: known fields, non-negative numbers (``None`` values dropped)."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidValueError(f"{field} must be an object.", [{"loc": [field], "msg": "object required"}])
    errors: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key not in STATISTICS_FIELDS:
            errors.append({"loc": [field, key], "msg": "not a known statistics field"})
        elif v is None:
            continue
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
            errors.append({"loc": [field, key], "msg": "a number is required"})
        elif v < 0:
            errors.append({"loc": [field, key], "msg": "must not be negative"})
        elif key == "bachelor_share" and v > 1:
            errors.append({"loc": [field, key], "msg": "a ratio between 0 and 1 (0.6 = 60 %)"})
        else:
            out[key] = v
    if revenue_required and "revenue" not in out and not any(e["loc"][-1] == "revenue" for e in errors):
        errors.append({"loc": [field, "revenue"], "msg": "revenue is required"})
    if errors:
        raise InvalidValueError(f"{field} contains invalid statistics.", errors)
    return out


def plan(value: Any) -> dict[str, Any]:
    """The creation plan: base year, yearly targets (each a year and statistics) and the committed matching ratio
    of local to city funds (§4.2, ``matching_ratio``)."""
    if value is None:
        return {"base_year": None, "targets": []}
    if not isinstance(value, dict):
        raise InvalidValueError("plan must be an object.", [{"loc": ["plan"], "msg": "object required"}])
    base_year = value.get("base_year")
    if base_year is not None and (
        isinstance(base_year, bool) or not isinstance(base_year, int) or not 2000 <= base_year <= 2100
    ):
        raise InvalidValueError("plan.base_year must be a year.", [{"loc": ["plan", "base_year"], "msg": "a year"}])
    targets = value.get("targets", [])
    if not isinstance(targets, list):
        raise InvalidValueError("plan.targets must be a list.", [{"loc": ["plan", "targets"], "msg": "list required"}])
    out = []
    for i, t in enumerate(targets):
        if not isinstance(t, dict) or isinstance(t.get("year"), bool) or not isinstance(t.get("year"), int):
            raise InvalidValueError(
                "Each plan target needs a year.", [{"loc": ["plan", "targets", i, "year"], "msg": "a year"}]
            )
        stats = statistics({k: v for k, v in t.items() if k != "year"}, f"plan.targets[{i}]", revenue_required=False)
        out.append({"year": t["year"], **stats})
    shaped: dict[str, Any] = {"base_year": base_year, "targets": out}
    ratio = value.get("matching_ratio")
    if ratio is not None:  # only then: a plan without the commitment records what it always recorded
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 <= ratio <= 100:
            raise InvalidValueError(
                "plan.matching_ratio is the local funds committed per yuan of city funds (§4.2: 0.5 = 1 : 0.5).",
                [{"loc": ["plan", "matching_ratio"], "msg": "a number between 0 and 100"}],
            )
        shaped["matching_ratio"] = ratio
    return shaped


def self_scores(system: IndicatorSystem, raw: Any) -> dict[str, float]:
    """The applicant's own indicator scores, by indicator number, each within its weight."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidValueError("self_assessment.scores must be an object.")
    errors = []
    out = {}
    for key, value in raw.items():
        try:
            n = int(str(key))
        except ValueError:
            n = -1
        ind = system.indicators.get(n)
        if ind is None:
            errors.append(
                {
                    "loc": ["self_assessment", "scores", str(key)],
                    "msg": f"indicator {key} is not in version {system.version}",
                }
            )
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= ind.weight:
            errors.append({"loc": ["self_assessment", "scores", str(key)], "msg": f"a number within 0..{ind.weight:g}"})
        else:
            out[str(n)] = float(value)
    if errors:
        raise InvalidValueError("The self-assessment scores are not valid.", errors)
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


def sites(value: Any) -> list[dict[str, str]]:
    """The zone's sites (一区多点): at least one, each with a name."""
    if not isinstance(value, list) or not value:
        raise InvalidValueError(
            "At least one site is required (一区多点 allows several).",
            [{"loc": ["sites"], "msg": "at least one site"}],
        )
    out = []
    for i, s in enumerate(value):
        if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not s["name"].strip():
            raise InvalidValueError("Each site needs a name.", [{"loc": ["sites", i, "name"], "msg": "required"}])
        name = printable(s["name"], "sites.name").strip()
        out.append({"name": name, "address": text(s.get("address"), "address", required=False)})
    return out


def experts(value: Any, min_panel_size: int, *, applicant_org: str | None = None) -> list[dict[str, str]]:
    """The panel's experts: each a user id (sub), name and, optionally, organisation (org), none twice, at
    least ``min_panel_size``, none from ``applicant_org`` (§3.2: the panel assesses the applicant, it is not
    of it)."""
    if not isinstance(value, list):
        raise InvalidValueError("experts must be a list.", [{"loc": ["experts"], "msg": "list required"}])
    out = []
    for i, e in enumerate(value):
        if not isinstance(e, dict) or not isinstance(e.get("sub"), str) or not e["sub"].strip():
            raise InvalidValueError(
                "Each expert needs a user id (sub).", [{"loc": ["experts", i, "sub"], "msg": "required"}]
            )
        expert = {
            "sub": printable(e["sub"], "experts.sub").strip(),
            "name": text(e.get("name"), "name", required=False, limit=200),
        }
        org = text(e.get("org"), "org", required=False, limit=200)
        if org:  # recorded only when given: a panel appointed without organisations records what v1 recorded
            expert["org"] = org
        if org and org == applicant_org:
            raise InvalidValueError(
                f"Expert {expert['sub']} belongs to the applicant organisation ({org}): an expert of the panel "
                "(专家评估组, §3.2) may not come from the applicant whose zone it assesses.",
                [{"loc": ["experts", i, "org"], "msg": "the applicant organisation"}],
            )
        out.append(expert)
    subs = [e["sub"] for e in out]
    if len(set(subs)) != len(subs):
        raise InvalidValueError(
            "An expert is named twice on the panel.", [{"loc": ["experts"], "msg": "duplicate sub"}]
        )
    if len(out) < min_panel_size:
        raise InvalidValueError(
            f"The panel needs at least {min_panel_size} experts; {len(out)} given.",
            [{"loc": ["experts"], "msg": f"at least {min_panel_size}"}],
        )
    return out


def area_type(value: Any) -> str:
    """The kind of area applying: park, committee or town."""
    if value not in AREA_TYPES:
        raise InvalidValueError(
            "area_type must be park, committee or town.",
            [{"loc": ["area_type"], "msg": "one of park, committee, town"}],
        )
    return str(value)


def self_assessment(system: IndicatorSystem, value: Any) -> dict[str, Any]:
    """The applicant's self-assessment: its statistics (revenue required) and its own scores."""
    sa = value or {}
    if not isinstance(sa, dict):
        raise InvalidValueError("self_assessment must be an object.", [{"loc": ["self_assessment"], "msg": "object"}])
    stats = statistics(sa.get("statistics"), "self_assessment.statistics", revenue_required=True)
    return {"statistics": stats, "scores": self_scores(system, sa.get("scores"))}


def formal_outcome(value: Any) -> str:
    """A formal review's outcome: accepted, returned or rejected."""
    if value not in ("accepted", "returned", "rejected"):
        raise InvalidValueError(
            "outcome must be accepted, returned or rejected.",
            [{"loc": ["outcome"], "msg": "accepted | returned | rejected"}],
        )
    return str(value)


def methods(value: Any) -> list[str]:
    """The assessment methods, each named once, sorted."""
    if not isinstance(value, list) or not value or any(m not in ASSESSMENT_METHODS for m in value):
        raise InvalidValueError(
            "methods must name one or more of: " + ", ".join(ASSESSMENT_METHODS) + ".",
            [{"loc": ["methods"], "msg": "one or more of " + ", ".join(ASSESSMENT_METHODS)}],
        )
    return sorted(set(value))


def passed(value: Any) -> bool:
    """A decision's ``passed``: true or false."""
    if not isinstance(value, bool):
        raise InvalidValueError("passed must be true or false.", [{"loc": ["passed"], "msg": "boolean"}])
    return value


def resolution(outcome: Any, consequence: Any) -> None:
    """An objection's resolution: dismissed (no consequence), or upheld with reassess or reject."""
    if outcome not in ("dismissed", "upheld"):
        raise InvalidValueError(
            "outcome must be dismissed or upheld.", [{"loc": ["outcome"], "msg": "dismissed | upheld"}]
        )
    if outcome == "upheld" and consequence not in ("reassess", "reject"):
        raise InvalidValueError(
            "An upheld objection needs its consequence: reassess or reject.",
            [{"loc": ["consequence"], "msg": "reassess | reject"}],
        )
    if outcome == "dismissed" and consequence is not None:
        raise InvalidValueError("A dismissed objection has no consequence.", [{"loc": ["consequence"], "msg": "omit"}])


def channel(value: Any) -> str:
    """How the bureau received an objection: letter, phone, visit or email."""
    if value not in OBJECTION_CHANNELS:
        raise InvalidValueError(
            "channel must be letter, phone, visit or email.",
            [{"loc": ["channel"], "msg": " | ".join(OBJECTION_CHANNELS)}],
        )
    return str(value)


def term_years(years: Any, reasons: Any, default: int) -> tuple[int, str]:
    """A grant's term: ``default`` years "in principle" (原则上, §6.4), another length (1 to 10) only with reasons."""
    if years is None:
        years = default
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 10:
        raise InvalidValueError("term_years must be 1 to 10.", [{"loc": ["term_years"], "msg": "1..10"}])
    why = text(reasons, "term_reasons", required=False)
    if years != default and not why:
        raise InvalidValueError(
            f"The term is {default} years in principle (原则上三年, §6.4); a term of {years} years needs the leading "
            "group's reasons (term_reasons).",
            [{"loc": ["term_reasons"], "msg": f"required when term_years is not {default}"}],
        )
    return years, why


def document_ref(value: Any, field: str) -> dict[str, Any]:
    """One document reference (SHA-256 and name)."""
    if not isinstance(value, dict):
        raise InvalidValueError(f"{field} must be a document reference.", [{"loc": [field], "msg": "object required"}])
    (ref,) = document_refs([value], field, kinds=False)
    return ref


def year(value: Any) -> int:
    """A calendar year."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError("year must be a year.", [{"loc": ["year"], "msg": "integer year"}])
    return value


def rating(value: Any) -> str:
    """An annual evaluation's rating."""
    if value not in RATINGS:
        raise InvalidValueError(
            "rating must be one of " + ", ".join(RATINGS) + ".", [{"loc": ["rating"], "msg": " | ".join(RATINGS)}]
        )
    return str(value)


def rectification_months(value: Any) -> int:
    """The length of a rectification period: 1 to 24 months."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24:
        raise InvalidValueError(
            "rectification_months must be 1 to 24.", [{"loc": ["rectification_months"], "msg": "1..24"}]
        )
    return value


def revocation(reason: Any, details: Any, evidence: Any, circular: Any) -> dict[str, Any]:
    """A revocation on §6.6's grounds: the ground, its details, the evidence (at least one document: 一经查实)
    and the public circular (通报: number and text); what its event records of them."""
    if reason not in REVOCATION_REASONS:
        raise InvalidValueError(
            "reason must be one of §6.6's grounds: statistics_duty (不履行统计义务), concealment (隐瞒事实) "
            "or fraud (弄虚作假).",
            [{"loc": ["reason"], "msg": " | ".join(REVOCATION_REASONS)}],
        )
    documents = document_refs(evidence, "evidence", kinds=False)
    if not documents:
        raise InvalidValueError(
            "A revocation needs the evidence that established the ground (一经查实): at least one document.",
            [{"loc": ["evidence"], "msg": "at least one document"}],
        )
    if not isinstance(circular, dict):
        raise InvalidValueError(
            "A revocation needs its public circular (通报): number and text.",
            [{"loc": ["circular"], "msg": "an object with number and text"}],
        )
    number = text(circular.get("number"), "circular.number", limit=200)
    body = text(circular.get("text"), "circular.text", limit=100000)
    return {
        "cause": str(reason),
        "details": text(details, "details"),
        "evidence": documents,
        "circular": {"number": number, "text": body, "text_sha256": sha256_text(body)},
    }


def waivers(value: Any, failing: dict[str, dict[str, Any]]) -> list[dict[str, str]]:
    """The bureau's waivers of basic conditions at acceptance: each a condition's section mark (``"§4.3"``) and
    the reasons; only a condition the document states "in principle" (原则上) that fails may be waived."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidValueError("waivers must be a list.", [{"loc": ["waivers"], "msg": "list required"}])
    out: list[dict[str, str]] = []
    for i, w in enumerate(value):
        if not isinstance(w, dict) or not isinstance(w.get("rule"), str) or not w["rule"].strip():
            raise InvalidValueError(
                "Each waiver names the condition by its section mark (e.g. §4.3).",
                [{"loc": ["waivers", i, "rule"], "msg": "a section mark such as §4.3"}],
            )
        rule = printable(w["rule"], "waivers.rule").strip()
        if rule not in WAIVABLE_CONDITIONS:
            raise ConditionsNotMetError(
                f"The condition {rule} cannot be waived: only a condition the document states in principle (原则上) "
                "may be: " + "; ".join(f"{k} {v}" for k, v in WAIVABLE_CONDITIONS.items()) + ".",
                checks=[],
            )
        reasons = w.get("reasons")
        if not isinstance(reasons, str) or not reasons.strip():
            raise InvalidValueError(
                f"A waiver of {rule} needs the bureau's reasons.",
                [{"loc": ["waivers", i, "reasons"], "msg": "text required"}],
            )
        if any(o["rule"] == rule for o in out):
            raise InvalidValueError(f"{rule} is waived twice.", [{"loc": ["waivers", i, "rule"], "msg": "duplicate"}])
        if rule not in failing:
            raise InvalidValueError(
                f"The condition {rule} is met; it needs no waiver.",
                [{"loc": ["waivers", i, "rule"], "msg": "the condition is met"}],
            )
        out.append({"rule": rule, "reasons": text(reasons, f"waivers[{i}].reasons")})
    return out


def choice(value: Any, field: str, options: tuple[str, ...]) -> str:
    """One of ``options``."""
    if value not in options:
        raise InvalidValueError(
            f"{field} must be one of {', '.join(options)}.", [{"loc": [field], "msg": " | ".join(options)}]
        )
    return str(value)


def day(value: Any, field: str) -> date:
    """A calendar date (``YYYY-MM-DD``)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidValueError(f"{field} must be a date (YYYY-MM-DD).", [{"loc": [field], "msg": "a date"}])
