"""A real Orthanc with its DICOMweb plugin, started for the tests and the benchmark.

Loopback HTTP on a free port, no DICOM server, its own storage folder, authentication on.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

PLUGIN_CANDIDATES = (
    Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so"),
    Path("/usr/lib/orthanc/libOrthancDicomWeb.so"),
)
USER = "pacs-reader"
PASSWORD = "orthanc-test-password"
START_DEADLINE_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dicomweb_plugin() -> Path:
    for path in PLUGIN_CANDIDATES:
        if path.exists():
            return path
    raise RuntimeError(
        "the Orthanc DICOMweb plugin is not installed (apt-get install orthanc-dicomweb; "
        "scripts/ensure_services.sh does it)"
    )


@dataclass
class Orthanc:
    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    def start(self) -> Orthanc:
        binary = shutil.which("Orthanc")
        if binary is None:
            raise RuntimeError("Orthanc is not installed (apt-get install orthanc)")
        storage = self.folder / "storage"
        storage.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = {
            "Name": "spinelabel-tests",
            "HttpPort": self.port,
            "DicomServerEnabled": False,
            "DicomPort": free_port(),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {USER: PASSWORD},
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "StorageCompression": False,
            "Plugins": [str(dicomweb_plugin())],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "StudiesMetadata": "Full"},
            "HttpThreadsCount": 8,
        }
        path = self.folder / "orthanc.json"
        path.write_text(json.dumps(config))
        self.log = self.folder / "orthanc.log"
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                [binary, str(path)], stdout=sink, stderr=subprocess.STDOUT, cwd=self.folder
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited at start: {self.log.read_text()[-2000:]}")
            try:
                reply = requests.get(f"{self.url}/plugins", auth=(USER, PASSWORD), timeout=2)
                if reply.ok and "dicom-web" in reply.json():
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)  # polling a condition (the port answers), bounded by the deadline
        raise RuntimeError(f"Orthanc did not answer in {START_DEADLINE_S} s")

    def upload(self, paths: list[Path]) -> None:
        with requests.Session() as session:
            session.auth = (USER, PASSWORD)
            for path in paths:
                reply = session.post(f"{self.url}/instances", data=path.read_bytes(), timeout=30)
                reply.raise_for_status()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
