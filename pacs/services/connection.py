"""Setting a project's PACS connection (the lead's settings page or the API)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from annotation.models import Project
from pacs.crypto import secret_encrypt
from pacs.models import PacsConnection


def connection_set(
    *,
    project: Project,
    user: User,
    base_url: str,
    username: str,
    password: str | None,
    timeout_s: float,
) -> PacsConnection:
    """Create or change the connection; ``password=None`` keeps the stored one."""
    with transaction.atomic():
        connection = PacsConnection.objects.select_for_update().filter(project=project).first()
        if connection is None:
            connection = PacsConnection(project=project)
        connection.base_url = base_url
        if username != connection.username and password is None:
            password = ""  # a new user name never inherits the old user's password
        connection.username = username
        if password is not None:
            connection.password_encrypted = secret_encrypt(password)
        connection.timeout_s = timeout_s
        connection.updated_by = user
        connection.save()
    return connection


def connection_delete(*, project: Project) -> None:
    PacsConnection.objects.filter(project=project).delete()
