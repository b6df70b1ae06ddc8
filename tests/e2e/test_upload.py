"""Uploading studies: a lead chooses a zip of DICOM files and a broken file on the upload page;
they are listed with their sizes until Upload is pressed, each shows its own outcome; the
summary lists the new case and the refused file with its reason; the same study again is
called a duplicate; and the case opens."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from annotation.models import Case
from tests.conftest import PASSWORD
from tests.e2e.conftest import PhantomStudy, screenshot, wait_for_viewer

# One xdist group for `--dist loadgroup`: one server and one Chromium, not one per worker.
# (pytest 9.2 with xdist 3.8 ignores groups: xdist sets item._nodeid, pytest 9 reads _id.)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("e2e"),
]


def _size(n: int) -> str:
    """The page's size format (frontend/src/features/upload/files.ts formatBytes)."""
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024**2:.1f} MB"


def _zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.dcm")):
            archive.write(path, path.relative_to(folder).as_posix())
    return target


def _check_listed_not_sent(page: Any, project: Any, archive: Path) -> None:
    """Nothing is sent on selection: the files are listed with their sizes and wait for Upload."""
    files = page.get_by_test_id("upload-file")
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_contain_text("study.zip")
    expect(files.nth(0).get_by_test_id("upload-file-size")).to_have_text(
        _size(archive.stat().st_size)
    )
    expect(files.nth(1).get_by_test_id("upload-file-size")).to_have_text("154 B")
    expect(page.get_by_test_id("upload-status")).to_contain_text("Ready to upload 2 files")
    assert not Case.objects.filter(project=project).exists()
    screenshot(page, "upload-confirm")


def _upload_again_is_a_duplicate(page: Any, project: Any, archive: Path, case: Any) -> None:
    """The same study again: a duplicate, said in words."""
    summary = page.get_by_test_id("upload-summary")
    page.get_by_test_id("upload-files").set_input_files([str(archive)])
    expect(page.get_by_test_id("upload-summary")).to_be_empty()
    page.get_by_test_id("upload-start").click()
    expect(page.get_by_test_id("summary-heading")).to_have_text(
        "Already imported: nothing new", timeout=60000
    )
    expect(summary.get_by_test_id("summary-case")).to_have_attribute("data-outcome", "duplicate")
    expect(summary.get_by_test_id("summary-case-text")).to_have_text(
        f"study already in {case.pseudonym}: nothing new"
    )
    expect(page.get_by_test_id("summary-duplicates")).to_have_text("1already there")
    screenshot(page, "upload-duplicate")
    assert Case.objects.filter(project=project).count() == 1


@pytest.mark.usefixtures("cast")
def test_a_lead_uploads_a_zip_and_a_broken_file_and_sees_the_summary(
    page_for: Any, asgi_server: Any, project: Any, phantom_study: PhantomStudy, tmp_path: Path
) -> None:
    archive = _zip_folder(phantom_study.folder, tmp_path / "study.zip")
    broken = tmp_path / "broken.dcm"
    broken.write_bytes(b"\x00" * 128 + b"DICM" + b"this is not a data set")

    page = page_for("lead", PASSWORD)
    page.get_by_test_id("project-link-cervical").click()
    page.get_by_test_id("import-link").click()
    page.wait_for_url(f"{asgi_server.url}/projects/cervical/import/")
    expect(page.get_by_test_id("dropzone")).to_be_visible()
    page.get_by_test_id("upload-files").set_input_files([str(archive), str(broken)])

    _check_listed_not_sent(page, project, archive)
    page.get_by_test_id("upload-start").click()

    summary = page.get_by_test_id("upload-summary")
    expect(page.get_by_test_id("upload-status")).to_have_text("Upload finished.", timeout=60000)
    # Each file's own outcome: the zip sent, the broken file refused with the reason.
    files = page.get_by_test_id("upload-file")
    expect(files.nth(0)).to_have_attribute("data-state", "sent")
    expect(files.nth(1)).to_have_attribute("data-state", "skipped")
    expect(files.nth(1)).to_contain_text("skipped: ")
    expect(page.get_by_test_id("summary-cases")).to_have_text("1cases")
    expect(page.get_by_test_id("summary-series")).to_have_text("2series")
    expect(page.get_by_test_id("summary-images")).to_have_text(
        f"{len(list(phantom_study.folder.rglob('*.dcm')))}images"
    )
    expect(page.get_by_test_id("summary-skipped")).to_have_text("1files skipped")
    expect(page.get_by_test_id("upload-error")).to_have_count(0)
    skipped = page.get_by_test_id("skipped-row")
    expect(skipped).to_have_count(1)
    expect(skipped.locator("td").nth(0)).to_have_text("broken.dcm")
    reason = str(skipped.locator("td").nth(1).text_content()).strip()
    assert len(reason) > 10, f"the refusal gives no reason: {reason!r}"
    screenshot(page, "upload-summary")

    case = Case.objects.get(project=project)
    link = summary.get_by_test_id("summary-case-table").get_by_role("link")
    expect(link).to_have_text(case.pseudonym)
    expect(summary.get_by_test_id("summary-case-table")).to_contain_text("new")
    assert "E2E" not in case.pseudonym  # the patient's identifiers do not name the case

    _upload_again_is_a_duplicate(page, project, archive, case)

    link.click()
    page.wait_for_url(f"{asgi_server.url}/cases/{case.pk}/")
    wait_for_viewer(page)
    expect(page.get_by_test_id("case-title")).to_have_text(case.pseudonym)
    assert "E2E-0001" not in page.content()
    assert "PHANTOM" not in page.content()
