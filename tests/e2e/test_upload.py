"""Uploading studies: a lead drops a zip of DICOM files and a broken file on the upload page; the
summary lists the new case and the refused file with its reason, and the case opens."""

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


def _zip_folder(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*.dcm")):
            archive.write(path, path.relative_to(folder).as_posix())
    return target


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

    summary = page.get_by_test_id("upload-summary")
    expect(page.get_by_test_id("upload-status")).to_have_text("Upload finished.", timeout=60000)
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

    link.click()
    page.wait_for_url(f"{asgi_server.url}/cases/{case.pk}/")
    wait_for_viewer(page)
    expect(page.get_by_test_id("case-title")).to_have_text(case.pseudonym)
    assert "E2E-0001" not in page.content()
    assert "PHANTOM" not in page.content()
