"""manage.py dashboard_rebuild [slug ...]: recompute the dashboards' aggregates from scratch."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotation.models import Project
from dashboards.services.rebuild import dashboards_rebuild


class Command(BaseCommand):
    help = "Recompute the progress and agreement aggregates of projects (all without a slug)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", help="project slugs (default: every project)")

    def handle(self, *args: Any, **options: Any) -> None:
        slugs: list[str] = options["slugs"]
        projects = Project.objects.filter(slug__in=slugs) if slugs else Project.objects.all()
        missing = sorted(set(slugs) - set(projects.values_list("slug", flat=True)))
        if missing:
            raise CommandError(f"no such project: {', '.join(missing)}")
        for project in projects:
            activity, agreement = dashboards_rebuild(project_id=project.pk)
            self.stdout.write(
                f"{project.slug}: {activity} activity rows, {agreement} agreement rows"
            )
