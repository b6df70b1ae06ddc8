"""Creating projects and managing who belongs to them."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from annotation.label_templates import BUILTIN_TEMPLATES, template_validate
from annotation.live import access_group, event_publish
from annotation.models import Membership, Project, Role

# Settings that decide who sees what: a change makes open sockets re-check their rights.
_ACCESS_SETTINGS = frozenset({"blinded"})


def _access_changed(project: Project) -> None:
    """Tell the project's open sockets (after commit) to re-check membership and blinding."""
    event_publish(
        group=access_group(project.pk),
        type="project.access_changed",
        payload={"project": project.pk},
    )


@transaction.atomic
def project_create(
    *,
    slug: str,
    name: str | None = None,
    template: dict[str, Any] | str = "cervical-compression",
    description: str = "",
    keep_original_files: bool = False,
    prelabel_on_import: bool = True,
) -> Project:
    """Create a project with a built-in template (by name) or a custom one."""
    if isinstance(template, str):
        factory = BUILTIN_TEMPLATES.get(template)
        if factory is None:
            raise ValidationError({"template": [f"unknown built-in template {template!r}"]})
        template_data = factory()
    else:
        template_data = template_validate(copy.deepcopy(template))
    project = Project(
        slug=slug,
        name=name or slug.replace("-", " ").title(),
        description=description,
        template=template_data,
        keep_original_files=keep_original_files,
        prelabel_on_import=prelabel_on_import,
    )
    project.full_clean()
    project.save()
    return project


def project_get_or_create(*, slug: str) -> tuple[Project, bool]:
    """The import command's entry: an unknown slug gets a project with the default template."""
    existing = Project.objects.filter(slug=slug).first()
    if existing is not None:
        return existing, False
    return project_create(slug=slug), True


@transaction.atomic
def membership_set(*, project: Project, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": [f"unknown role {role!r}; use one of {Role.values}"]})
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    _access_changed(project)
    return membership


@transaction.atomic
def membership_remove(*, project: Project, user: User) -> bool:
    """Take the user out of the project; their open sockets close. False if not a member."""
    deleted, _ = Membership.objects.filter(project=project, user=user).delete()
    if deleted:
        _access_changed(project)
    return bool(deleted)


PROJECT_SETTINGS = ("name", "description", "keep_original_files", "prelabel_on_import", "blinded")


@transaction.atomic
def project_update(*, project: Project, **changes: Any) -> Project:
    """Change a project's settings (the lead's settings page); unknown names are refused."""
    unknown = set(changes) - set(PROJECT_SETTINGS)
    if unknown:
        raise ValidationError({name: ["not a project setting"] for name in sorted(unknown)})
    for name, value in changes.items():
        setattr(project, name, value)
    watched = sorted(_ACCESS_SETTINGS & set(changes))
    stored = Project.objects.filter(pk=project.pk).values(*watched).first() if watched else None
    previous = stored or {}
    project.full_clean()
    project.save(update_fields=list(changes))
    if any(previous.get(name) != getattr(project, name) for name in watched):
        _access_changed(project)
    return project


@transaction.atomic
def membership_add_by_username(*, project: Project, username: str, role: str) -> Membership:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": [f"no user named {username!r}"]})
    return membership_set(project=project, user=user, role=role)
