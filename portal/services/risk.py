"""Early warning (学业预警, paper 二(三)1) and outcome indicators (二(一)1) of transition plans.

Tiers, with thresholds an admin sets:
- high: at least `high_failed_courses` failed courses AND attendance below `high_attendance_below` %;
- medium: GPA fell by at least `medium_gpa_drop` since the previous check-in, or at least
  `medium_missed_assignments` missed assignments, or several failed courses (high's count)
  with acceptable attendance;
- low: at least `low_failed_courses` failed course (difficulty in one course), or attendance
  below `low_attendance_below` % (poor study habits);
- none otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import pygal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from pygal.style import Style
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db
from portal.i18n import fmt_date
from portal.models import CheckIn, RiskChange, RiskThresholds, TransitionPlan, User
from portal.models.transition import RISK_LABELS, CheckInStatus, Phase, RiskLevel
from portal.timeutil import to_local, utcnow

DEFAULTS = {
    "high_failed_courses": 2,
    "high_attendance_below": 60,
    "medium_gpa_drop": 0.3,
    "medium_missed_assignments": 3,
    "low_failed_courses": 1,
    "low_attendance_below": 85,
}


def get_thresholds() -> RiskThresholds:
    """The stored thresholds, or the defaults (not saved) when an admin never set them."""
    row = db.session.scalar(select(RiskThresholds).order_by(RiskThresholds.id).limit(1))
    return row or RiskThresholds(**DEFAULTS)


def update_thresholds(actor: User, values: dict) -> RiskThresholds:
    """Save new thresholds (admin only) and recompute the risk of every open plan."""
    if not actor.is_admin:
        raise NotAllowed(_l("Only an administrator sets the early-warning thresholds."))
    errors = {}
    for name in ("high_failed_courses", "low_failed_courses", "medium_missed_assignments"):
        value = values.get(name)
        if value is None or not 1 <= value <= 20:
            errors[name] = _l("Enter a whole number from 1 to 20.")
    for name in ("high_attendance_below", "low_attendance_below"):
        value = values.get(name)
        if value is None or not 1 <= value <= 100:
            errors[name] = _l("Enter a percentage from 1 to 100.")
    drop = values.get("medium_gpa_drop")
    if drop is None or not 0.05 <= drop <= 4:
        errors["medium_gpa_drop"] = _l("Enter a GPA drop from 0.05 to 4.")
    if not errors:
        if values["low_failed_courses"] > values["high_failed_courses"]:
            errors["low_failed_courses"] = _l("The low-risk count cannot exceed the high-risk count.")
        if values["low_attendance_below"] < values["high_attendance_below"]:
            errors["low_attendance_below"] = _l(
                "The low-risk attendance threshold cannot be below the high-risk threshold."
            )
    if errors:
        raise ValidationFailed(_l("Please correct the thresholds."), errors=errors)
    row = db.session.scalar(select(RiskThresholds).order_by(RiskThresholds.id).limit(1))
    if row is None:
        row = RiskThresholds(**DEFAULTS)
        db.session.add(row)
    for name in DEFAULTS:
        setattr(row, name, values[name])
    row.updated_by_id = actor.id
    db.session.flush()
    plans = db.session.scalars(
        select(TransitionPlan)
        .where(TransitionPlan.phase.in_([Phase.INTENSIVE, Phase.STABLE]))
        .options(selectinload(TransitionPlan.checkins))
    )
    for plan in plans:
        recompute(plan, actor=actor, reason=str(_l("Thresholds changed")), thresholds=row)
    return row


@dataclass
class Indicators:
    """The latest known value of each indicator (carried from earlier check-ins when missing)."""

    courses_passed: int | None = None
    courses_failed: int | None = None
    gpa: float | None = None
    previous_gpa: float | None = None
    attendance_rate: int | None = None
    missed_assignments: int | None = None
    mood: int | None = None
    scale_name: str | None = None
    scale_score: float | None = None
    at: datetime | None = None


def recorded_checkins(plan: TransitionPlan) -> list[CheckIn]:
    done = [c for c in plan.checkins if c.status is CheckInStatus.DONE and c.held_at is not None]
    return sorted(done, key=lambda c: (c.held_at, c.id))


def latest_indicators(plan: TransitionPlan) -> Indicators:
    result = Indicators()
    gpas: list[float] = []
    for checkin in recorded_checkins(plan):
        for name in ("courses_passed", "courses_failed", "attendance_rate", "missed_assignments", "mood"):
            value = getattr(checkin, name)
            if value is not None:
                setattr(result, name, value)
        if checkin.scale_name and checkin.scale_score is not None:
            result.scale_name, result.scale_score = checkin.scale_name, checkin.scale_score
        if checkin.gpa is not None:
            gpas.append(checkin.gpa)
        result.at = checkin.held_at
    if gpas:
        result.gpa = gpas[-1]
        result.previous_gpa = gpas[-2] if len(gpas) > 1 else None
    return result


def compute_level(ind: Indicators, t: RiskThresholds) -> RiskLevel:
    """The tier for these indicators under thresholds `t` (see the module docstring)."""
    failed = ind.courses_failed or 0
    attendance = ind.attendance_rate
    if failed >= t.high_failed_courses and attendance is not None and attendance < t.high_attendance_below:
        return RiskLevel.HIGH
    gpa_drop = (
        ind.previous_gpa - ind.gpa + 1e-9 if ind.gpa is not None and ind.previous_gpa is not None else None
    )  # epsilon: 3.0 - 2.7 must count as a 0.3 drop despite binary floats
    if (
        (gpa_drop is not None and gpa_drop >= t.medium_gpa_drop)
        or (ind.missed_assignments or 0) >= t.medium_missed_assignments
        or failed >= t.high_failed_courses
    ):
        return RiskLevel.MEDIUM
    if failed >= t.low_failed_courses or (attendance is not None and attendance < t.low_attendance_below):
        return RiskLevel.LOW
    return RiskLevel.NONE


def recompute(
    plan: TransitionPlan,
    *,
    actor: User | None = None,
    reason: str | None = None,
    thresholds: RiskThresholds | None = None,
    at: datetime | None = None,
) -> RiskLevel:
    """Store the computed level; log a transition when the effective level changes."""
    before = plan.risk
    plan.computed_risk = compute_level(latest_indicators(plan), thresholds or get_thresholds())
    if plan.risk is not before:
        db.session.add(
            RiskChange(
                plan_id=plan.id,
                at=at or utcnow(),
                from_level=before,
                to_level=plan.risk,
                reason=reason,
                by_id=actor.id if actor else None,
            )
        )
    return plan.computed_risk


# Outcomes ----------------------------------------------------------------------------


@dataclass
class PlanOutcome:
    plan: TransitionPlan
    baseline_gpa: float | None = None
    latest_gpa: float | None = None
    baseline_failed: int | None = None
    latest_failed: int | None = None
    pass_rate: float | None = None  # 0..1, courses passed / taken at the latest check-in
    transitions: list[RiskChange] = field(default_factory=list)

    @property
    def gpa_change(self) -> float | None:
        if self.baseline_gpa is None or self.latest_gpa is None:
            return None
        return round(self.latest_gpa - self.baseline_gpa, 2)

    @property
    def failed_reduction(self) -> float | None:
        """(baseline failed − latest failed) / baseline failed; None without a failing baseline."""
        if not self.baseline_failed or self.latest_failed is None:
            return None
        return (self.baseline_failed - self.latest_failed) / self.baseline_failed


def plan_outcome(plan: TransitionPlan, transitions: list[RiskChange] | None = None) -> PlanOutcome:
    """Baseline = the first recorded value; latest = the last (paper: 学期初与学期末成绩对比)."""
    outcome = PlanOutcome(plan=plan, transitions=transitions or [])
    for checkin in recorded_checkins(plan):
        if checkin.gpa is not None:
            if outcome.baseline_gpa is None:
                outcome.baseline_gpa = checkin.gpa
            outcome.latest_gpa = checkin.gpa
        if checkin.courses_failed is not None:
            if outcome.baseline_failed is None:
                outcome.baseline_failed = checkin.courses_failed
            outcome.latest_failed = checkin.courses_failed
        if checkin.courses_passed is not None and checkin.courses_failed is not None:
            taken = checkin.courses_passed + checkin.courses_failed
            outcome.pass_rate = checkin.courses_passed / taken if taken else None
    return outcome


def risk_history(plan_ids: list[int]) -> dict[int, list[RiskChange]]:
    found: dict[int, list[RiskChange]] = {pid: [] for pid in plan_ids}
    if plan_ids:
        rows = db.session.scalars(
            select(RiskChange).where(RiskChange.plan_id.in_(plan_ids)).order_by(RiskChange.at, RiskChange.id)
        )
        for row in rows:
            found[row.plan_id].append(row)
    return found


@dataclass
class GroupOutcome:
    plans: list[PlanOutcome]

    def _mean(self, values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    @property
    def pass_rate(self) -> float | None:
        return self._mean([p.pass_rate for p in self.plans if p.pass_rate is not None])

    @property
    def gpa_change(self) -> float | None:
        value = self._mean([p.gpa_change for p in self.plans if p.gpa_change is not None])
        return round(value, 2) if value is not None else None

    @property
    def failed_reduction(self) -> float | None:
        base = sum(p.baseline_failed or 0 for p in self.plans if p.latest_failed is not None)
        latest = sum(p.latest_failed or 0 for p in self.plans if p.baseline_failed)
        return (base - latest) / base if base else None

    def level_counts(self, initial: bool) -> dict[RiskLevel, int]:
        counts = {level: 0 for level in RiskLevel}
        for p in self.plans:
            counts[start_level(p) if initial else p.plan.risk] += 1
        return counts

    @property
    def improved(self) -> int:
        return sum(1 for p in self.plans if start_level(p).rank > p.plan.risk.rank)

    @property
    def worsened(self) -> int:
        return sum(1 for p in self.plans if start_level(p).rank < p.plan.risk.rank)


def start_level(outcome: PlanOutcome) -> RiskLevel:
    """The level right after the first recorded check-in (the plan's baseline tier)."""
    checkins = recorded_checkins(outcome.plan)
    if not checkins:
        return outcome.plan.risk
    level = None
    for change in outcome.transitions:
        if change.at <= checkins[0].held_at:
            level = change.to_level
    if level is not None:
        return level
    if outcome.transitions:
        return outcome.transitions[0].from_level or outcome.plan.risk
    return outcome.plan.risk


def group_outcome(plans: list[TransitionPlan]) -> GroupOutcome:
    history = risk_history([p.id for p in plans])
    return GroupOutcome(plans=[plan_outcome(p, history[p.id]) for p in plans])


# Charts (pygal, rendered on the server as inline SVG: no JavaScript, no CDN) ----------------

_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#333",
    foreground_strong="#111",
    foreground_subtle="#999",
    colors=("#b3261e", "#1f6feb", "#2e7d32", "#f9a825"),
    font_family="sans-serif",
)


def _chart_config(**extra) -> dict:
    return dict(
        style=_STYLE,
        js=[],
        disable_xml_declaration=True,
        explicit_size=False,
        width=640,
        height=320,
        legend_at_bottom=True,
        show_y_guides=True,
        print_values=False,
        **extra,
    )


_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)


def _render(chart) -> str:
    """Inline SVG without pygal's configuration script: the chart needs no JavaScript."""
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def plan_chart_svg(outcome: PlanOutcome) -> str:
    """GPA and risk level (0 none … 3 high) over the recorded check-ins."""
    checkins = recorded_checkins(outcome.plan)
    if not checkins:
        return ""
    chart = pygal.Line(**_chart_config(range=(0, 4), title=_("GPA and risk level over time")))
    chart.x_labels = [fmt_date(to_local(c.held_at).date()) for c in checkins]
    chart.add(_("GPA"), [c.gpa for c in checkins])
    levels = []
    history = outcome.transitions
    for checkin in checkins:
        level = None
        for change in history:
            if change.at <= checkin.held_at:
                level = change.to_level
        levels.append(level.rank if level else None)
    chart.add(_("Risk level (0 = none, 3 = high)"), levels)
    return _render(chart)


def group_chart_svg(outcome: GroupOutcome) -> str:
    """How many students are at each risk level: at the start of their plan and now."""
    if not outcome.plans:
        return ""
    chart = pygal.Bar(**_chart_config(title=_("Students by risk level: at the start and now")))
    levels = [RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.LOW, RiskLevel.NONE]
    chart.x_labels = [str(RISK_LABELS[level]) for level in levels]
    start, now = outcome.level_counts(True), outcome.level_counts(False)
    chart.add(_("At the start"), [start[level] for level in levels])
    chart.add(_("Now"), [now[level] for level in levels])
    return _render(chart)
