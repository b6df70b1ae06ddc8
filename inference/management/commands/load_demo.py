"""`manage.py load_demo`: the demo project with phantoms, real volumes and demo users.

Idempotent: users and the project are created once; cases are imported only into an
empty project (``--reimport`` adds missing ones again). The import is published as
CasesImported, whose subscriber queues pre-labelling for the task worker that `make demo`
starts. It lives in inference, the app that may use both the importer and the registry.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from annotation.domain_events import CasesImported, publish
from annotation.ingest import ingest_paths
from annotation.models import Case, Project
from annotation.services.projects import membership_set, project_create
from fixtures.demo import DEMO_CASES, DEMO_REAL
from fixtures.phantom import make_phantom, write_dicom
from fixtures.real import RealVolume
from inference.models import PrelabelJob
from inference.services.registry import shipped_models_register

DEMO_SLUG = "cervical-demo"
DEMO_USERS = (
    ("annotator", "annotator"),
    ("reader", "reader"),
    ("reviewer", "reviewer"),
    ("lead", "lead"),
)


def demo_password(username: str) -> str:
    return f"{username}-demo"


class Command(BaseCommand):
    help = "Load the demo project (phantoms and real volumes) and the demo users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reimport", action="store_true", help="import into a non-empty project"
        )
        parser.add_argument(
            "--no-prelabel",
            action="store_true",
            help="do not publish the import, so no pre-labelling is queued",
        )
        parser.add_argument(
            "--phantoms", type=int, default=len(DEMO_CASES), help="how many phantom cases to load"
        )
        parser.add_argument(
            "--real",
            nargs="*",
            choices=[volume.key for volume in DEMO_REAL],
            default=None,
            help="which real volumes to load (default: all; none when given without a name)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(slug=DEMO_SLUG).first()
        if project is None:
            project = project_create(
                slug=DEMO_SLUG,
                name="Cervical compression demo",
                description=(
                    "Synthetic phantoms with known MSCC/MCC/TA/CR and real Spinal Cord Toolbox "
                    "volumes (MIT) with manual cord masks."
                ),
            )
        user_model = get_user_model()
        for username, role in DEMO_USERS:
            user = user_model.objects.filter(username=username).first()
            if user is None:
                user = user_model.objects.create_user(
                    username=username, password=demo_password(username)
                )
            membership_set(project=project, user=user, role=role)
        self._register_models()
        if Case.objects.filter(project=project).exists() and not options["reimport"]:
            self.stdout.write("the demo project already has cases; nothing imported")
        else:
            real = (
                DEMO_REAL
                if options["real"] is None
                else [volume for volume in DEMO_REAL if volume.key in options["real"]]
            )
            case_ids = self._import(project, phantoms=options["phantoms"], real=real)
            if not options["no_prelabel"]:
                self._announce_import(project, case_ids)
        self._print_logins()

    def _register_models(self) -> None:
        versions = shipped_models_register()
        for version in versions:
            self.stdout.write(f"model {version.task}: #{version.pk} {version.status}")

    def _import(self, project: Project, *, phantoms: int, real: list[RealVolume]) -> list[int]:
        case_ids: list[int] = []
        with tempfile.TemporaryDirectory(prefix="demo-") as temp:
            for demo in DEMO_CASES[:phantoms]:
                folder = Path(temp) / demo.name
                files = write_dicom(
                    make_phantom(demo.spec),
                    folder,
                    patient_name=demo.patient_name,
                    patient_id=demo.patient_id,
                    transfer_syntax=demo.transfer_syntax,
                )
                summary = ingest_paths(project=project, paths=[folder])
                case_ids.extend(case_id for case_id, _, _ in summary.cases)
                self.stdout.write(
                    f"phantom {demo.name}: {summary.images} images in {len(files)} files"
                )
        for volume in real:
            paths = [volume.path, *(mask.path for mask in volume.masks if mask.kind == "binary")]
            summary = ingest_paths(project=project, paths=paths)
            case_ids.extend(case_id for case_id, _, _ in summary.cases)
            skipped = f", skipped {len(summary.skipped)}" if summary.skipped else ""
            self.stdout.write(f"real {volume.key}: {summary.images} images{skipped}")
        return case_ids

    def _announce_import(self, project: Project, case_ids: list[int]) -> None:
        publish(CasesImported(project_id=project.pk, case_ids=tuple(case_ids)))
        queued = PrelabelJob.objects.filter(case_id__in=case_ids).count()
        if queued:
            self.stdout.write(f"queued pre-labelling of {queued} cases for the task worker")
        else:
            self.stdout.write("pre-labelling not queued (no active model or turned off)")

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write("Demo logins (user / password / role):")
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {username:<10} {demo_password(username):<16} {role}")
