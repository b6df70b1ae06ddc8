"""The import_cases command: project creation, summary and exit codes."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation.models import Case, Project

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def test_it_creates_the_project_and_prints_the_summary(tmp_path: Path, write_series) -> None:
    write_series(tmp_path / "study", slices=3)
    out = StringIO()

    call_command("import_cases", str(tmp_path / "study"), "--project", "new-study", stdout=out)

    project = Project.objects.get(slug="new-study")
    assert project.template["name"] == "cervical-compression"
    assert Case.objects.filter(project=project).count() == 1
    text = out.getvalue()
    assert "1 case(s) (1 created, 0 updated), 1 series, 3 images" in text
    assert "CASE-0001 (created)" in text


def test_it_exits_1_after_importing_the_good_files_when_some_are_refused(
    project: Project, tmp_path: Path, write_series
) -> None:
    write_series(tmp_path / "folder" / "good", slices=2)
    (tmp_path / "folder" / "junk.dcm").write_bytes(b"junk")
    out = StringIO()

    with pytest.raises(CommandError, match=r"1 file\(s\) refused") as refused:
        call_command(
            "import_cases", str(tmp_path / "folder"), "--project", project.slug, stdout=out
        )

    assert refused.value.returncode == 1
    assert f"{tmp_path / 'folder'}/junk.dcm: not a DICOM file" in out.getvalue()
    assert Case.objects.filter(project=project).count() == 1


def test_a_missing_path_is_a_usage_error_naming_it(project: Project, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"no such file or folder: .*nowhere") as error:
        call_command("import_cases", str(tmp_path / "nowhere"), "--project", project.slug)

    assert error.value.returncode == 2
    assert Case.objects.count() == 0


@pytest.mark.slow
def test_the_command_line_exit_codes(tmp_path: Path) -> None:
    """Run as a user would: a real process, its exit status and its streams."""
    (tmp_path / "junk.dcm").write_bytes(b"junk")
    command = [sys.executable, "manage.py", "import_cases", "--project", "cli-test"]

    missing_project = subprocess.run(
        [sys.executable, "manage.py", "import_cases", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    missing_path = subprocess.run(
        [*command, str(tmp_path / "nowhere")], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert missing_project.returncode == 2
    assert "--project" in missing_project.stderr
    assert missing_path.returncode == 2
    assert "nowhere" in missing_path.stderr
