"""Transition support pages: parse → permission → one service call → commit → render."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from blueprints.transition import bp
from blueprints.transition.forms import (
    AcceptForm,
    AdjustmentForm,
    AdminAccessForm,
    CheckInForm,
    ConfirmForm,
    ConsentForm,
    EscalationForm,
    GoalsForm,
    GroupForm,
    HandleForm,
    HandoverForm,
    HandoverNotesForm,
    MemberForm,
    PhaseForm,
    PlanForm,
    ReplaceForm,
    RiskForm,
    ScheduleForm,
    ThresholdsForm,
    aware,
)
from blueprints.web import apply_domain_error, role_required
from portal.errors import DomainError
from portal.extensions import db
from portal.models import CheckIn, Consent, Escalation, GroupMember, Role, School, SchoolLevel, User, WorkingGroup
from portal.models.transition import (
    CONSENT_SUBJECT_LABELS,
    DIMENSION_LABELS,
    PHASE_LABELS,
    RISK_LABELS,
    AdjustmentLevel,
    CheckInMode,
    ConsentSubject,
    Dimension,
    GroupRole,
    Phase,
    RiskLevel,
)
from portal.permissions import transition as perms
from portal.services import accounts, risk, transition
from portal.timeutil import local_today

# Loaders: the object, or 404 / 403 -------------------------------------------------------


def load_group(group_id: int, manage: bool = False) -> WorkingGroup:
    group = db.session.get(WorkingGroup, group_id)
    if group is None:
        abort(404)
    allowed = perms.can_manage_group(current_user, group) if manage else perms.can_view_group(current_user, group)
    if not allowed:
        abort(404 if not perms.can_view_group(current_user, group) else 403)
    return group


def load_plan(plan_id: int) -> object:
    """The plan for someone entitled to it; an admin is sent to the audited access page;
    anyone else gets a 404 that does not reveal whether the plan exists."""
    plan = transition.get_plan(plan_id)
    if plan is None:
        abort(404)
    if not perms.can_view_plan(current_user, plan):
        if current_user.is_admin:
            abort(redirect(url_for("transition.admin_access", plan_id=plan.id)))
        abort(404)
    return plan


def load_checkin(checkin_id: int) -> CheckIn:
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None:
        abort(404)
    load_plan(checkin.plan_id)
    return checkin


def _service_failed(form, error: DomainError) -> None:
    db.session.rollback()
    apply_domain_error(form, error)


# Home ------------------------------------------------------------------------------------


@bp.route("/")
def index():
    groups = transition.groups_for(current_user)
    own_plan = transition.plan_of_student(current_user) if current_user.role is Role.STUDENT else None
    handovers = transition.plans_handed_over_by(current_user) if current_user.role is Role.TEACHER else []
    return render_template("transition/index.html", groups=groups, own_plan=own_plan, handovers=handovers)


# Groups ------------------------------------------------------------------------------------


@bp.route("/groups/new", methods=["GET", "POST"])
@role_required(Role.ADMIN, Role.MENTOR)
def group_new():
    form = GroupForm()
    if current_user.is_admin:
        mentors = db.session.scalars(
            select(User).where(User.role == Role.MENTOR, User.active.is_(True)).order_by(User.display_name)
        )
        form.mentor_id.choices = [(m.id, m.display_name) for m in mentors]
    else:
        form.mentor_id.choices = [(current_user.id, current_user.display_name)]
    if form.validate_on_submit():
        mentor = db.session.get(User, form.mentor_id.data)
        try:
            group = transition.create_group(current_user, form.name.data, mentor)
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            flash(_("The working group has been created. Add its activist, two cadres and mentees."), "success")
            return redirect(url_for("transition.group_detail", group_id=group.id))
    return render_template("transition/group_form.html", form=form)


def _group_page(group: WorkingGroup, status: int = 200, **forms):
    forms.setdefault("member_form", MemberForm(formdata=None))
    forms.setdefault("replace_form", ReplaceForm(formdata=None))
    forms.setdefault("confirm", ConfirmForm(formdata=None))
    return render_template("transition/group.html", group=group, GroupRole=GroupRole, **forms), status


@bp.route("/groups/<int:group_id>")
def group_detail(group_id: int):
    return _group_page(load_group(group_id))


def _user_by_email(form, field: str = "email") -> User | None:
    user = accounts.find_user_by_email(getattr(form, field).data or "")
    if user is None:
        getattr(form, field).errors = [_("There is no account with this email address.")]
    return user


@bp.route("/groups/<int:group_id>/members", methods=["POST"])
def member_add(group_id: int):
    group = load_group(group_id, manage=True)
    form = MemberForm()
    if form.validate_on_submit() and (user := _user_by_email(form)):
        try:
            transition.add_member(current_user, group, user, GroupRole(form.role.data))
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            flash(_("Member added."), "success")
            return redirect(url_for("transition.group_detail", group_id=group_id))
    return _group_page(load_group(group_id), 422, member_form=form)


def _load_member(group_id: int, member_id: int) -> GroupMember:
    load_group(group_id, manage=True)
    member = db.session.get(GroupMember, member_id)
    if member is None or member.group_id != group_id:
        abort(404)
    return member


@bp.route("/groups/<int:group_id>/members/<int:member_id>/remove", methods=["POST"])
def member_remove(group_id: int, member_id: int):
    member = _load_member(group_id, member_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            transition.remove_member(current_user, member)
            db.session.commit()
            flash(_("Member removed."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
    return redirect(url_for("transition.group_detail", group_id=group_id))


@bp.route("/groups/<int:group_id>/members/<int:member_id>/replace", methods=["POST"])
def member_replace(group_id: int, member_id: int):
    member = _load_member(group_id, member_id)
    form = ReplaceForm()
    if form.validate_on_submit() and (user := _user_by_email(form)):
        try:
            transition.replace_member(current_user, member, user)
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            flash(_("Member replaced."), "success")
            return redirect(url_for("transition.group_detail", group_id=group_id))
    return _group_page(load_group(group_id), 422, replace_form=form)


@bp.route("/groups/<int:group_id>/activate", methods=["POST"])
def group_activate(group_id: int):
    group = load_group(group_id, manage=True)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            transition.activate_group(current_user, group)
            db.session.commit()
            flash(_("The working group is active."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
    return redirect(url_for("transition.group_detail", group_id=group_id))


@bp.route("/groups/<int:group_id>/dashboard")
def group_dashboard(group_id: int):
    group = load_group(group_id)
    if not perms.can_view_group_dashboard(current_user, group):
        abort(403)
    board = transition.group_dashboard(current_user, group)
    return render_template("transition/dashboard.html", board=board, group=group, today=local_today())


@bp.route("/groups/<int:group_id>/plans/new", methods=["GET", "POST"])
def plan_new(group_id: int):
    group = load_group(group_id)
    if perms.group_role(current_user, group) != perms.MENTOR:
        abort(403)
    form = PlanForm()
    schools = db.session.scalars(select(School).where(School.level == SchoolLevel.SENIOR_HIGH).order_by(School.name_zh))
    form.origin_school_id.choices = [(0, "—")] + [(s.id, s.display_name()) for s in schools]
    if request.method == "GET":
        form.start_date.data = local_today()
    if form.validate_on_submit() and (student := _user_by_email(form, "student_email")):
        origin = db.session.get(School, form.origin_school_id.data) if form.origin_school_id.data else None
        try:
            plan = transition.create_plan(current_user, group, student, form.start_date.data, origin)
            db.session.commit()
        except DomainError as error:
            if "student_id" in error.errors:
                error.errors["student_email"] = error.errors.pop("student_id")
            _service_failed(form, error)
        else:
            flash(_("The plan is open; weekly check-ins are scheduled."), "success")
            return redirect(url_for("transition.plan_detail", plan_id=plan.id))
    return render_template("transition/plan_form.html", form=form, group=group)


# Handover ------------------------------------------------------------------------------------


@bp.route("/handover/new", methods=["GET", "POST"])
@role_required(Role.TEACHER)
def handover_new():
    if not perms.can_hand_over(current_user):
        abort(403)
    form = HandoverForm()
    form.student_id.choices = [
        (s.id, f"{s.display_name} · {s.grade or ''}") for s in transition.handover_candidates(current_user)
    ]
    form.group_id.choices = [(g.id, f"{g.name} · {g.mentor.display_name}") for g in transition.active_groups()]
    if form.validate_on_submit():
        student = db.session.get(User, form.student_id.data)
        group = db.session.get(WorkingGroup, form.group_id.data)
        try:
            plan = transition.open_handover(
                current_user, student, group, form.start_date.data, form.handover_notes.data
            )
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            flash(_("The student has been handed over; the mentor will accept them into the group."), "success")
            return redirect(url_for("transition.plan_detail", plan_id=plan.id))
    return render_template("transition/handover_form.html", form=form)


# The plan page ---------------------------------------------------------------------------------


def _plan_page(plan, status: int = 200, **forms):
    view = transition.view_plan(current_user, plan)
    db.session.commit()  # the audit rows of this read
    defaults = {
        "handover_form": HandoverNotesForm(formdata=None, handover_notes=plan.handover_notes),
        "accept_form": AcceptForm(formdata=None, start_date=plan.start_date),
        "phase_form": PhaseForm(formdata=None),
        "risk_form": RiskForm(formdata=None),
        "goals_form": GoalsForm(
            formdata=None,
            goal_academic=plan.goal_academic,
            goal_psychological=plan.goal_psychological,
            goal_career=plan.goal_career,
        ),
        "adjustment_form": AdjustmentForm(formdata=None),
        "escalation_form": EscalationForm(formdata=None),
        "handle_form": HandleForm(formdata=None),
        "consent_form": ConsentForm(formdata=None, given_on=local_today()),
        "confirm": ConfirmForm(formdata=None),
    }
    defaults.update(forms)
    return (
        render_template(
            "transition/plan.html",
            plan=plan,
            view=view,
            Dimension=Dimension,
            Phase=Phase,
            dimension_labels=DIMENSION_LABELS,
            risk_labels=RISK_LABELS,
            phase_labels=PHASE_LABELS,
            consent_labels=CONSENT_SUBJECT_LABELS,
            # The feeds area serves single-event .ics files; link them when it is installed.
            ics_available="feeds.public_event" in current_app.view_functions,
            today=local_today(),
            **defaults,
        ),
        status,
    )


@bp.route("/plans/<int:plan_id>")
def plan_detail(plan_id: int):
    return _plan_page(load_plan(plan_id))


@bp.route("/plans/<int:plan_id>/notes/<dimension>")
def plan_notes(plan_id: int, dimension: str):
    """All notes of one dimension, for those who may read them (audited)."""
    plan = load_plan(plan_id)
    try:
        dim = Dimension(dimension)
    except ValueError:
        abort(404)
    if not perms.can_view_notes(current_user, plan, dim):
        abort(403)
    transition.record_notes_read(current_user, plan, dim)
    db.session.commit()
    checkins = [c for c in reversed(plan.checkins) if c.notes(dim)]
    return render_template(
        "transition/notes.html", plan=plan, dimension=dim, label=DIMENSION_LABELS[dim], checkins=checkins
    )


def _post_plan_action(plan_id: int, form_cls, form_name: str, action, success: str, anchor: str = ""):
    plan = load_plan(plan_id)
    form = form_cls()
    if form.validate_on_submit():
        try:
            action(plan, form)
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            flash(success, "success")
            return redirect(url_for("transition.plan_detail", plan_id=plan_id) + anchor)
    return _plan_page(load_plan(plan_id), 422, **{form_name: form})


@bp.route("/plans/<int:plan_id>/handover", methods=["POST"])
def plan_handover_notes(plan_id: int):
    return _post_plan_action(
        plan_id,
        HandoverNotesForm,
        "handover_form",
        lambda plan, form: transition.update_handover_notes(current_user, plan, form.handover_notes.data),
        _("Handover notes saved."),
    )


@bp.route("/plans/<int:plan_id>/accept", methods=["POST"])
def plan_accept(plan_id: int):
    return _post_plan_action(
        plan_id,
        AcceptForm,
        "accept_form",
        lambda plan, form: transition.accept_handover(current_user, plan, form.start_date.data),
        _("The student is accepted into the group; weekly check-ins are scheduled."),
    )


@bp.route("/plans/<int:plan_id>/phase", methods=["POST"])
def plan_phase(plan_id: int):
    return _post_plan_action(
        plan_id,
        PhaseForm,
        "phase_form",
        lambda plan, form: transition.change_phase(current_user, plan, Phase(form.phase.data), form.reason.data),
        _("The phase has been changed and the check-in schedule follows it."),
        "#schedule",
    )


@bp.route("/plans/<int:plan_id>/risk", methods=["POST"])
def plan_risk(plan_id: int):
    return _post_plan_action(
        plan_id,
        RiskForm,
        "risk_form",
        lambda plan, form: transition.override_risk(
            current_user, plan, RiskLevel(form.level.data) if form.level.data else None, form.reason.data
        ),
        _("The risk level has been set."),
    )


@bp.route("/plans/<int:plan_id>/goals", methods=["POST"])
def plan_goals(plan_id: int):
    return _post_plan_action(
        plan_id,
        GoalsForm,
        "goals_form",
        lambda plan, form: transition.update_goals(
            current_user,
            plan,
            {d: getattr(form, f"goal_{d.value}").data for d in Dimension},
        ),
        _("Goals saved."),
    )


@bp.route("/plans/<int:plan_id>/adjustments", methods=["POST"])
def plan_adjust(plan_id: int):
    return _post_plan_action(
        plan_id,
        AdjustmentForm,
        "adjustment_form",
        lambda plan, form: transition.record_adjustment(
            current_user, plan, AdjustmentLevel(form.level.data), form.rationale.data
        ),
        _("Adjustment logged."),
        "#adjustments",
    )


@bp.route("/plans/<int:plan_id>/escalations", methods=["POST"])
def plan_escalate(plan_id: int):
    return _post_plan_action(
        plan_id,
        EscalationForm,
        "escalation_form",
        lambda plan, form: transition.raise_escalation(current_user, plan, form.summary.data),
        _("The issue has been raised with the group's cadres."),
        "#escalations",
    )


@bp.route("/escalations/<int:escalation_id>/handle", methods=["POST"])
def escalation_handle(escalation_id: int):
    escalation = db.session.get(Escalation, escalation_id)
    if escalation is None:
        abort(404)
    plan_id = escalation.plan_id
    return _post_plan_action(
        plan_id,
        HandleForm,
        "handle_form",
        lambda plan, form: transition.handle_escalation(
            current_user, escalation, form.outcome.data, form.decision.data == "escalate"
        ),
        _("The outcome has been recorded."),
        "#escalations",
    )


@bp.route("/plans/<int:plan_id>/consents", methods=["POST"])
def plan_consent(plan_id: int):
    return _post_plan_action(
        plan_id,
        ConsentForm,
        "consent_form",
        lambda plan, form: transition.record_consent(
            current_user,
            plan,
            ConsentSubject(form.subject.data),
            form.given_by_name.data,
            {d for d in Dimension if getattr(form, f"scope_{d.value}").data},
            form.given_on.data,
            form.relationship_to_student.data,
        ),
        _("Consent recorded."),
        "#consent",
    )


@bp.route("/consents/<int:consent_id>/withdraw", methods=["POST"])
def consent_withdraw(consent_id: int):
    consent = db.session.get(Consent, consent_id)
    if consent is None:
        abort(404)
    load_plan(consent.plan_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            transition.withdraw_consent(current_user, consent)
            db.session.commit()
            flash(_("Consent withdrawn: no new notes can be written under it."), "success")
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
    return redirect(url_for("transition.plan_detail", plan_id=consent.plan_id) + "#consent")


# Check-ins ----------------------------------------------------------------------------------------


@bp.route("/plans/<int:plan_id>/checkins/new", methods=["GET", "POST"])
def checkin_new(plan_id: int):
    plan = load_plan(plan_id)
    if not perms.can_record_checkin(current_user, plan):
        abort(403)
    form = CheckInForm()
    for dimension in Dimension:
        if not perms.can_write_notes(current_user, plan, dimension):
            delattr(form, f"notes_{dimension.value}")
    if request.method == "GET":
        form.held_at.data = transition.default_held_at()
    if form.validate_on_submit():
        data = transition.CheckInRecord(
            held_at=aware(form.held_at.data),
            mode=CheckInMode(form.mode.data),
            courses_passed=form.courses_passed.data,
            courses_failed=form.courses_failed.data,
            gpa=form.gpa.data,
            attendance_rate=form.attendance_rate.data,
            missed_assignments=form.missed_assignments.data,
            mood=form.mood.data,
            scale_name=form.scale_name.data,
            scale_score=form.scale_score.data,
            notes={d: form[f"notes_{d.value}"].data for d in Dimension if f"notes_{d.value}" in form},
            follow_ups=form.follow_ups.data,
        )
        try:
            transition.record_checkin(current_user, plan, data)
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            flash(_("Check-in recorded."), "success")
            return redirect(url_for("transition.plan_detail", plan_id=plan_id))
    consent_ok = {d.value: transition.consent_covers(plan, d) for d in Dimension}
    return render_template("transition/checkin_form.html", form=form, plan=plan, consent_ok=consent_ok), (
        422 if form.errors else 200
    )


@bp.route("/checkins/<int:checkin_id>/schedule", methods=["GET", "POST"])
def checkin_schedule(checkin_id: int):
    checkin = load_checkin(checkin_id)
    plan = checkin.plan
    if not perms.can_schedule_checkin(current_user, plan):
        abort(403)
    form = ScheduleForm(obj=None)
    if request.method == "GET" and checkin.starts_at is None:
        form.mode.data = CheckInMode.IN_PERSON.value
    if form.validate_on_submit():
        try:
            transition.schedule_meeting(
                current_user,
                checkin,
                aware(form.starts_at.data),
                form.duration_minutes.data,
                CheckInMode(form.mode.data),
                form.place.data,
            )
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            flash(_("The check-in time is set and the student has been told."), "success")
            return redirect(url_for("transition.plan_detail", plan_id=plan.id) + "#schedule")
    return render_template("transition/schedule_form.html", form=form, checkin=checkin, plan=plan), (
        422 if form.errors else 200
    )


# Export -----------------------------------------------------------------------------------------


def _export(plan_id: int) -> dict:
    plan = load_plan(plan_id)
    if not perms.can_export_plan(current_user, plan):
        abort(403)
    data = transition.export_plan(current_user, plan)
    db.session.commit()
    return data


@bp.route("/plans/<int:plan_id>/export.json")
def export_json(plan_id: int):
    body = transition.export_json(_export(plan_id))
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": "attachment; filename=transition-plan.json", "Cache-Control": "no-store"},
    )


@bp.route("/plans/<int:plan_id>/export.csv")
def export_csv(plan_id: int):
    body = transition.export_csv(_export(plan_id))
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=transition-plan.csv", "Cache-Control": "no-store"},
    )


# Administration -------------------------------------------------------------------------------------


@bp.route("/plans/<int:plan_id>/admin-access", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_access(plan_id: int):
    plan = transition.get_plan(plan_id)
    if plan is None:
        abort(404)
    form = AdminAccessForm()
    if form.validate_on_submit():
        try:
            transition.open_admin_access(current_user, plan, form.reason.data)
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            return redirect(url_for("transition.plan_detail", plan_id=plan_id))
    return render_template("transition/admin_access.html", form=form, plan=plan), (422 if form.errors else 200)


@bp.route("/admin/plans")
@role_required(Role.ADMIN)
def admin_plans():
    return render_template("transition/admin_plans.html", plans=transition.admin_plan_index())


@bp.route("/admin/thresholds", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def admin_thresholds():
    current = risk.get_thresholds()
    form = ThresholdsForm(obj=current)
    if form.validate_on_submit():
        try:
            risk.update_thresholds(current_user, {name: getattr(form, name).data for name in risk.DEFAULTS})
            db.session.commit()
        except DomainError as error:
            _service_failed(form, error)
        else:
            flash(_("Thresholds saved; open plans have been re-assessed."), "success")
            return redirect(url_for("transition.admin_thresholds"))
    return render_template("transition/thresholds.html", form=form), (422 if form.errors else 200)
