"""Server-rendered pages: project list, case list, the case viewer shell, the upload page."""

from __future__ import annotations

import math

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from annotation.apis.serializers import (
    CaseDetailSerializer,
    CaseRowSerializer,
    ProjectRowSerializer,
)
from annotation.forms import MemberForm, ProjectSettingsForm, SplitListForm, StudyDesignForm
from annotation.models import Case, Project, StudyDesign
from annotation.models.imaging import CaseState
from annotation.permissions import (
    may_change_settings,
    may_export,
    may_import,
    may_prelabel_case,
    may_prelabel_project,
    may_review,
    may_view_dashboard,
    require,
)
from annotation.selectors.access import access_case, access_project
from annotation.selectors.cases import (
    CASE_VIEWS,
    case_detail,
    case_page,
    project_list_for_user,
)
from annotation.selectors.design import design_of, split_counts
from annotation.selectors.queue import live_claims, my_claim_on_case
from annotation.services.cases import WorkflowError
from annotation.services.design import DesignError, design_save, splits_from_list
from annotation.services.projects import (
    membership_add_by_username,
    membership_remove,
    project_update,
)
from annotation.services.queue import claim_reassign, claim_release

PAGE_SIZE = 100


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    rows = ProjectRowSerializer(
        project_list_for_user(user=request.user),  # type: ignore[arg-type]
        many=True,
    ).data
    projects = [{**row, "may_import": may_import(role=row["role"])} for row in rows]
    return render(request, "annotation/project_list.html", {"projects": projects})


@login_required
def case_list(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = access_project(user=request.user, slug=slug)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    state = request.GET.get("state", "")
    view = request.GET.get("view", "")
    view = view if view in CASE_VIEWS else ""
    count, cases = case_page(
        project=project,
        user=request.user,
        role=role,
        page=page,
        page_size=PAGE_SIZE,
        state=state or None,
        view=view or None,
    )
    return render(
        request,
        "annotation/case_list.html",
        {
            "project": project,
            "role": role,
            "may_import": may_import(role=role),
            "may_change_settings": may_change_settings(role=role),
            "may_prelabel_project": may_prelabel_project(role=role),
            "may_view_dashboard": may_view_dashboard(role=role),
            "may_export": may_export(role=role),
            "rows": CaseRowSerializer(cases, many=True).data,
            "count": count,
            "page": page,
            "pages": max(1, math.ceil(count / PAGE_SIZE)),
            "state": state,
            "states": CaseState.choices,
            "view": view,
            "views": [("", "All"), ("mine", "Mine"), ("todo", "To do"), ("done", "Done")],
        },
    )


@login_required
def case_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case, role = access_case(user=request.user, case_id=case_id)
    siblings = Case.objects.filter(project_id=case.project_id)
    prev_case = siblings.filter(id__lt=case.pk).order_by("-id").values_list("id", flat=True).first()
    next_case = siblings.filter(id__gt=case.pk).order_by("id").values_list("id", flat=True).first()
    return render(
        request,
        "annotation/case_view.html",
        {
            "case": case,
            "project": case.project,
            "role": role,
            "may_prelabel": may_prelabel_case(role=role),
            "may_review": may_review(role=role),
            "prev_case": prev_case,
            "next_case": next_case,
            "my_claim": my_claim_on_case(case_id=case.pk, user_id=request.user.pk),
            # Embedded so the page draws without waiting for a second round trip.
            "case_payload": CaseDetailSerializer(
                case, context={"role": role, "series": case_detail(case=case)}
            ).data,
        },
    )


@login_required
def review_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The review page: every visible read over one viewer, agreement, gold, comments."""
    case, role = access_case(user=request.user, case_id=case_id)
    require(may_review(role=role), "only the project's reviewers and leads review cases")
    return render(
        request,
        "annotation/review.html",
        {
            "case": case,
            "project": case.project,
            "role": role,
            "case_payload": CaseDetailSerializer(
                case, context={"role": role, "series": case_detail(case=case)}
            ).data,
        },
    )


@login_required
def history_view(request: HttpRequest, case_id: int) -> HttpResponse:
    """The case history page: the timeline and the diff of two revisions (any member)."""
    case, role = access_case(user=request.user, case_id=case_id)
    return render(
        request,
        "annotation/history.html",
        {
            "case": case,
            "project": case.project,
            "role": role,
            "case_payload": CaseDetailSerializer(
                case, context={"role": role, "series": case_detail(case=case)}
            ).data,
        },
    )


@login_required
def project_settings(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = access_project(user=request.user, slug=slug)
    require(may_change_settings(role=role), "only the project's leads change its settings")
    settings_form = ProjectSettingsForm(instance=project)
    member_form = MemberForm()
    design_form = StudyDesignForm(initial=_design_initial(design_of(project=project)))
    if request.method == "POST" and request.POST.get("action") in ("release", "reassign"):
        _claim_post(request, project)
        return redirect("project-settings", slug=slug)
    if request.method == "POST" and request.POST.get("action") in ("design", "splits"):
        design_form, done = _design_post(request, project)
        if done:
            return redirect("project-settings", slug=slug)
    elif request.method == "POST":
        if request.POST.get("action") == "remove":
            _member_remove(request, project)
            return redirect("project-settings", slug=slug)
        if request.POST.get("action") == "member":
            member_form = MemberForm(request.POST)
            if member_form.is_valid():
                try:
                    membership_add_by_username(project=project, **member_form.cleaned_data)
                except ValidationError as exc:
                    member_form.add_error("username", exc.message_dict["username"][0])
                else:
                    messages.success(request, "Member saved.")
                    return redirect("project-settings", slug=slug)
        else:
            settings_form = ProjectSettingsForm(
                request.POST, instance=Project.objects.get(pk=project.pk)
            )
            if settings_form.is_valid():
                project_update(project=project, **settings_form.cleaned_data)
                messages.success(request, "Settings saved.")
                return redirect("project-settings", slug=slug)
    members = project.memberships.select_related("user").order_by("role", "user__username")
    return render(
        request,
        "annotation/project_settings.html",
        {
            "project": project,
            "settings_form": settings_form,
            "member_form": member_form,
            "members": members,
            "design_form": design_form,
            "split_form": SplitListForm(),
            "design": design_of(project=project),
            "split_counts": split_counts(project=project),
            "claims": live_claims(project=project),
            "annotators": members.filter(role__in=["annotator", "reader"]),
        },
    )


def _claim_post(request: HttpRequest, project: Project) -> None:
    """The lead releases a claim or hands it to another member (the queue API's rules)."""
    user = request.user
    assert isinstance(user, User)
    claim = live_claims(project=project).filter(pk=request.POST.get("claim") or 0).first()
    if claim is None:
        messages.error(request, "That claim has ended already.")
        return
    try:
        if request.POST.get("action") == "release":
            claim_release(claim=claim, actor=user)
            messages.success(request, f"Claim on {claim.case.pseudonym} released.")
            return
        new = claim_reassign(claim=claim, to_user_id=int(request.POST.get("user") or 0), actor=user)
    except (WorkflowError, ValueError) as exc:
        messages.error(request, f"Claim not changed: {exc}")
        return
    messages.success(
        request, f"Claim on {claim.case.pseudonym} given to {new.user.get_username()}."
    )


def _design_initial(design: StudyDesign) -> dict[str, object]:
    initial: dict[str, object] = {
        "split_method": design.split_method,
        "seed": design.seed,
        "ratio_train": design.ratio_train,
        "ratio_tune": design.ratio_tune,
        "ratio_test": design.ratio_test,
        "overlap_percent": design.overlap_percent,
    }
    for split in ("train", "tune", "test"):
        for role in ("annotator", "reader"):
            initial[f"reads_{split}_{role}"] = design.reads_required.get(split, {}).get(role, 0)
    for role in ("annotator", "reader", "reviewer", "lead"):
        initial[f"aided_{role}"] = design.is_aided(role)
    return initial


def _design_post(request: HttpRequest, project: Project) -> tuple[StudyDesignForm, bool]:
    """The lead saves the study design or uploads a split list; (the form, saved?)."""
    user = request.user
    assert isinstance(user, User)
    if request.POST.get("action") == "splits":
        split_form = SplitListForm(request.POST, request.FILES)
        if split_form.is_valid():
            try:
                text = split_form.cleaned_data["file"].read().decode("utf-8-sig")
                changed = splits_from_list(project=project, actor=user, text=text)
            except (DesignError, UnicodeDecodeError) as exc:
                messages.error(request, f"Split list refused: {exc}")
            else:
                messages.success(request, f"Split list applied: {changed} cases changed split.")
        else:
            messages.error(request, "Choose a CSV file (pseudonym,split).")
        return StudyDesignForm(initial=_design_initial(design_of(project=project))), True
    form = StudyDesignForm(request.POST)
    if not form.is_valid():
        return form, False
    data = form.cleaned_data
    try:
        design_save(
            project=project,
            actor=user,
            seed=data["seed"],
            ratios=(data["ratio_train"], data["ratio_tune"], data["ratio_test"]),
            reads_required=form.reads_required(),
            overlap_percent=data["overlap_percent"],
            aided=form.aided(),
            split_method=data["split_method"],
        )
    except DesignError as exc:
        form.add_error(None, exc.detail)
        return form, False
    messages.success(request, "Study design saved; cases split again from the seed.")
    return form, True


def _member_remove(request: HttpRequest, project: Project) -> None:
    """The lead takes someone out of the project; their open sockets close at once."""
    username = request.POST.get("username", "")
    if username == request.user.get_username():
        messages.error(request, "You cannot remove yourself: ask another lead.")
        return
    user = User.objects.filter(username=username).first()
    if user is None or not membership_remove(project=project, user=user):
        messages.error(request, f"{username!r} is not a member of this project.")
        return
    messages.success(request, f"{username} removed from the project.")


@login_required
def upload(request: HttpRequest, slug: str) -> HttpResponse:
    project, role = access_project(user=request.user, slug=slug)
    require(may_import(role=role), "only leads and reviewers import studies")
    return render(request, "annotation/upload.html", {"project": project, "role": role})
