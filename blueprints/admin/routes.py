from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from blueprints.admin import bp
from blueprints.admin.forms import ConfirmForm, SchoolForm, UserForm
from blueprints.web import apply_domain_error
from portal.districts import district_choices
from portal.errors import DomainError
from portal.extensions import db
from portal.models import AuditEntry, Role, School, SchoolLevel, User
from portal.services import accounts

PER_PAGE = 50


@bp.route("/")
def dashboard():
    counts = accounts.count_users_by_role()
    schools = db.session.scalar(select(db.func.count(School.id)))
    return render_template("admin/dashboard.html", counts=counts, schools=schools)


# Users --------------------------------------------------------------------------


def _school_choices():
    schools = db.session.scalars(select(School).order_by(School.level, School.name_zh))
    return [(0, "—")] + [(s.id, s.display_name()) for s in schools]


def _user_data(form: UserForm) -> accounts.UserData:
    return accounts.UserData(
        email=form.email.data,
        display_name=form.display_name.data,
        role=Role(form.role.data),
        school_id=form.school_id.data or None,
        locale=form.locale.data or None,
        birth_date=form.birth_date.data,
        grade=form.grade.data,
        phone=form.phone.data,
    )


@bp.route("/users")
def users():
    q = (request.args.get("q") or "").strip()
    role = request.args.get("role") or ""
    stmt = select(User).order_by(User.role, User.display_name)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(User.email.like(like), User.display_name.like(f"%{q}%")))
    if role in {r.value for r in Role}:
        stmt = stmt.where(User.role == Role(role))
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_template("admin/users.html", page=page, q=q, role=role, roles=list(Role))


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = UserForm()
    form.school_id.choices = _school_choices()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("Set a first password for the new account."))
        else:
            try:
                user = accounts.create_user(current_user, _user_data(form), form.password.data)
            except DomainError as error:
                db.session.rollback()
                apply_domain_error(form, error)
            else:
                db.session.commit()
                flash(_("The account for %(name)s has been created.", name=user.display_name), "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    form.school_id.choices = _school_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.school_id.data = user.school_id or 0
        form.locale.data = user.locale or ""
    if form.validate_on_submit():
        try:
            accounts.update_user(current_user, user, _user_data(form))
            if form.password.data:
                accounts.admin_set_password(current_user, user, form.password.data)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The account has been saved."), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, confirm=ConfirmForm())


@bp.route("/users/<int:user_id>/active", methods=["POST"])
def user_set_active(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.set_active(current_user, user, not user.active)
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "danger")
        else:
            db.session.commit()
            flash(_("Activated.") if user.active else _("Deactivated; their sessions have ended."), "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


# Schools ------------------------------------------------------------------------


def _school_form(**kwargs) -> SchoolForm:
    form = SchoolForm(**kwargs)
    form.district.choices = district_choices(str(get_locale()))
    return form


def _school_data(form: SchoolForm) -> accounts.SchoolData:
    return accounts.SchoolData(
        name_zh=form.name_zh.data,
        name_en=form.name_en.data,
        level=SchoolLevel(form.level.data),
        district=form.district.data,
        under_resourced=form.under_resourced.data,
        address=form.address.data,
    )


@bp.route("/schools")
def schools():
    stmt = select(School).order_by(School.level, School.district, School.name_zh)
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_template("admin/schools.html", page=page)


@bp.route("/schools/new", methods=["GET", "POST"])
def school_new():
    form = _school_form()
    if form.validate_on_submit():
        try:
            accounts.create_school(current_user, _school_data(form))
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The school has been created."), "success")
            return redirect(url_for("admin.schools"))
    return render_template("admin/school_form.html", form=form, school=None)


@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
def school_edit(school_id: int):
    school = db.get_or_404(School, school_id)
    form = _school_form(obj=school)
    if request.method == "GET":
        form.level.data = school.level.value
    if form.validate_on_submit():
        try:
            accounts.update_school(current_user, school, _school_data(form))
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("The school has been saved."), "success")
            return redirect(url_for("admin.schools"))
    return render_template("admin/school_form.html", form=form, school=school, confirm=ConfirmForm())


@bp.route("/schools/<int:school_id>/active", methods=["POST"])
def school_set_active(school_id: int):
    school = db.get_or_404(School, school_id)
    if ConfirmForm().validate_on_submit():
        accounts.set_school_active(current_user, school, not school.active)
        db.session.commit()
        flash(_("The school has been saved."), "success")
    return redirect(url_for("admin.school_edit", school_id=school.id))


@bp.route("/audit")
def audit_log():
    stmt = select(AuditEntry).options(joinedload(AuditEntry.actor)).order_by(AuditEntry.id.desc())
    page = db.paginate(stmt, per_page=PER_PAGE, error_out=False)
    return render_template("admin/audit.html", page=page)
