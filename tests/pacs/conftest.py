"""A real Orthanc for the PACS tests: started once per session, loaded with the phantoms'
DICOM, a real series and a study without pixel data, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from annotation.models import Project
from pacs.models import PacsConnection
from pacs.services.connection import connection_set
from tests.pacs import orthanc as orthanc_mod
from tests.pacs.orthanc import Orthanc
from tests.pacs.studies import Loaded, build


@dataclass(frozen=True)
class Pacs:
    server: Orthanc
    loaded: Loaded

    @property
    def url(self) -> str:
        return self.server.dicomweb


@pytest.fixture(scope="session")
def pacs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pacs]:
    folder = tmp_path_factory.mktemp("orthanc")
    paths, loaded = build(folder / "dicom")
    server = Orthanc(folder / "server").start()
    try:
        server.upload(paths)
        yield Pacs(server=server, loaded=loaded)
    finally:
        server.stop()


@pytest.fixture
def connect(project: Project, cast: dict[str, User]):
    """Point the project at a DICOMweb URL (the Orthanc, or a proxy in front of it)."""

    def set_to(
        url: str,
        *,
        password: str = orthanc_mod.PASSWORD,
        timeout_s: float = 30.0,
    ) -> PacsConnection:
        return connection_set(
            project=project,
            user=cast["lead"],
            base_url=url,
            username=orthanc_mod.USER,
            password=password,
            timeout_s=timeout_s,
        )

    return set_to
