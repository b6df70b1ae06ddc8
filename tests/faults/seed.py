"""Seed a private stack's database: a project, signed-in users and cases with pixels.

Run as `python -m tests.faults.seed '{"annotators": 2, "cases": 2}'` with DATABASE_URL and
DATA_DIR pointing at the private stack; prints one JSON line (sessions, cases, images).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

SLUG = "faults"


def seed(
    *,
    annotators: int = 2,
    reviewers: int = 1,
    leads: int = 1,
    cases: int = 2,
    rows: int = 256,
    columns: int = 256,
    slices: int = 4,
    shipped_models: int = 0,
) -> dict[str, Any]:
    """Users a00…, r00…, l00… with a session each; cases of sagittal and axial slices."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.test import Client

    from annotation.models import Image
    from annotation.services.projects import membership_set, project_create
    from tests.factories import make_case

    project = project_create(slug=SLUG, name="Fault tests", prelabel_on_import=False)
    sessions: dict[str, str] = {}
    roles = {"a": ("annotator", annotators), "r": ("reviewer", reviewers), "l": ("lead", leads)}
    password = make_password("x" * 12)  # hashed once: fifty PBKDF2 rounds would take seconds
    for prefix, (role, count) in roles.items():
        for index in range(count):
            user = get_user_model().objects.create(
                username=f"{prefix}{index:02d}", password=password
            )
            membership_set(project=project, user=user, role=role)
            client = Client()
            client.force_login(user)
            sessions[user.username] = client.cookies["sessionid"].value
    made = []
    for index in range(cases):
        case = make_case(project=project, rows=rows, columns=columns, slices=slices, seed=index)
        images = Image.objects.filter(series__case=case).order_by("series__number", "index")
        made.append({"id": case.pk, "images": [image.pk for image in images]})
    if shipped_models:
        from inference.services.registry import shipped_models_register

        shipped_models_register()
    return {"project": SLUG, "sessions": sessions, "cases": made}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(json.dumps(seed(**options)))


if __name__ == "__main__":
    main()
