"""Wire types of the calls for applications (申报通知): what the bureau sends, and what anyone may read."""

from __future__ import annotations

from typing import Annotated
from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import Field
from pydantic import StrictBool

from api.checks import Day
from api.checks import Number
from api.schemas import In
from api.schemas import Reasons
from api.schemas import ShortText
from api.schemas import Year
from domain.call import CALL_ID

CallId = Annotated[str, Field(pattern=CALL_ID.pattern, description="letters, digits, '.', '_', '-', e.g. 2021-first")]
ExemptKind = Literal["application_form", "application_report", "self_assessment", "coordination_plan", "creation_plan"]


class CreationPeriod(In):
    """The creation period (创建期) the call sets, in whole years."""

    start_year: Year
    end_year: Year


class Member(In):
    """An organisation the call names (the first batch: 松山湖, 南城)."""

    org: Annotated[str, Field(min_length=1, max_length=100, description="the organisation id of its tokens")]
    name: Annotated[str, Field(min_length=1, max_length=200)]


class CallTerms(In):
    """What a call says: its filing window, the creation period, who may apply and which materials."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    opens_on: Day | None = Field(None, description="the first day applications are taken; none: no limit")
    closes_on: Day | None = Field(None, description="the last day applications are taken; none: no limit")
    creation_period: CreationPeriod
    members: list[Member] = Field(default_factory=list, max_length=500)
    members_only: StrictBool = Field(False, description="only the named members may apply")
    exempt_materials: list[ExemptKind] = Field(
        default_factory=list, max_length=5, description="§5 items the named members need not submit"
    )
    other_materials_required: list[ShortText] = Field(
        default_factory=list, max_length=50, description="the 'other materials' of §5 (4) this call asks for"
    )
    pass_mark: Annotated[float, Number, Field(ge=0, le=100, description="a percentage of the maximum score")] | None = (
        None
    )


class CallIn(CallTerms):
    """``POST /calls``: a new call for applications."""

    id: CallId
    reason: Reasons = Field("", description="e.g. the notice that announces it")


class CallCorrection(CallTerms):
    """``PUT /calls/{id}``: the call's terms as they should read, and why."""

    id: CallId | None = Field(None, description="if given, the id in the path")
    reason: Annotated[str, Field(min_length=1, max_length=20000, description="why the call is corrected")]


class CallHistoryEntry(BaseModel):
    """The publication or a correction: who, when, why, and which terms it changed."""

    seq: int
    kind: Literal["published", "corrected"]
    at: str
    actor: dict[str, Any]
    reason: str
    changed: list[str]


class CallOut(BaseModel):
    """A call for applications as it stands, with its history."""

    id: str
    name: str
    opens_on: str | None
    closes_on: str | None
    creation_period: dict[str, int]
    members: list[dict[str, str]]
    members_only: bool
    exempt_materials: list[str]
    other_materials_required: list[str]
    pass_mark: float | None
    version: int
    published_at: str
    updated_at: str
    history: list[CallHistoryEntry]
