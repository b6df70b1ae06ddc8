"""`manage.py import_cases PATH [PATH ...] --project SLUG`: import files into a project.

Creates the project (default template) if it does not exist. Exit status: 0 when every
file was imported, 1 when some were refused (the others are imported), 2 on a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotation.domain_events import CasesImported, publish
from annotation.ingest import ImportSummary, ingest_paths
from annotation.services.projects import project_get_or_create


class Command(BaseCommand):
    help = (
        "Import DICOM files, folders and zip archives, NIfTI volumes (with *_seg masks) and "
        "labelme folders into a project, de-identified."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, help="files, folders or zip archives")
        parser.add_argument("--project", required=True, help="project slug (created if missing)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        paths: list[Path] = options["paths"]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise CommandError(f"no such file or folder: {', '.join(missing)}", returncode=2)
        project, created = project_get_or_create(slug=options["project"])
        if created:
            self.stdout.write(f"Created project {project.slug!r} with the default template.")
        bar = tqdm(
            total=0,
            unit="file",
            desc="importing",
            file=sys.stderr,
            disable=options["no_progress"] or None,  # None: only on a terminal
        )

        def progress(done: int, total: int) -> None:
            if bar.total != total:
                bar.reset(total=total)
            bar.n = done
            bar.refresh()

        try:
            summary = ingest_paths(project=project, paths=paths, progress=progress)
        finally:
            bar.close()
        self._report(project.slug, summary)
        new_cases = tuple(c.id for c in summary.cases if c.created)
        # Pre-labelling of the new cases, if on, subscribes to this (config/subscribers.py).
        publish(CasesImported(project_id=project.pk, case_ids=new_cases))
        if summary.skipped:
            raise CommandError(f"{len(summary.skipped)} file(s) refused", returncode=1)

    def _report(self, slug: str, summary: ImportSummary) -> None:
        created = sum(1 for case in summary.cases if case.created)
        updated = len(summary.cases) - created
        self.stdout.write(
            f"Imported into {slug!r}: {len(summary.cases)} case(s) ({created} created, "
            f"{updated} updated), {summary.series} series, {summary.images} images."
        )
        for case in summary.cases:
            self.stdout.write(f"  {case.pseudonym} ({'created' if case.created else 'updated'})")
        if summary.skipped:
            self.stdout.write(f"Refused {len(summary.skipped)} file(s):")
            for skipped in summary.skipped:
                self.stdout.write(f"  {skipped.file}: {skipped.reason}")
        if summary.notes:
            self.stdout.write("Notes:")
            for note in summary.notes:
                self.stdout.write(f"  {note}")
