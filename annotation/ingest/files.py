"""Turn the user's paths (files, folders, zip archives) into a flat list of input files.

Zip archives are extracted into the import's private temporary folder, never elsewhere:
members with absolute paths, ``..`` components or symbolic links refuse the whole archive,
as do zip bombs: a total above INGEST_MAX_UPLOAD_BYTES (declared, then counted while
writing) or a member that expands more than INGEST_MAX_ZIP_RATIO times. Nested archives
are not opened.
"""

from __future__ import annotations

import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings

from annotation.ingest.types import Refused, SkippedFile

NIFTI_SUFFIXES = (".nii", ".nii.gz")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
_SYSTEM_NAMES = {"dicomdir", "thumbs.db", "desktop.ini", "__macosx"}
_CHUNK = 1 << 20
# Small members may compress extremely well (a blank image); the ratio limit starts here.
RATIO_GRACE_BYTES = 4 << 20


@dataclass(frozen=True)
class InputFile:
    path: Path
    file: str  # the name shown to the user: as given, plus the path inside a folder or zip
    kind: str  # dicom | nifti | json | image


@dataclass
class Collected:
    files: list[InputFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    ignored: int = 0
    archives: int = 0


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return "nifti"
    if name.endswith(".json"):
        return "json"
    if name.endswith(IMAGE_SUFFIXES):
        return "image"
    return "dicom"


def _ignored(name: str) -> bool:
    return name.startswith(".") or name.lower() in _SYSTEM_NAMES


def _is_zip(path: Path) -> bool:
    if path.name.lower().endswith(".zip"):
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _unsafe_member(name: str) -> str | None:
    normalised = name.replace("\\", "/")
    parts = PurePosixPath(normalised).parts
    if normalised.startswith("/") or (parts and ":" in parts[0]):
        return "an absolute path"
    if ".." in parts:
        return "a '..' component"
    return None


def _check_members(members: list[zipfile.ZipInfo], *, limit: int) -> None:
    """Refuse unsafe members and a declared total above ``limit`` before writing anything."""
    total = 0
    for info in members:
        if stat.S_ISLNK(info.external_attr >> 16):
            raise Refused(f"zip member {info.filename!r} is a symbolic link")
        unsafe = _unsafe_member(info.filename)
        if unsafe:
            raise Refused(f"zip member {info.filename!r} has {unsafe}")
        if info.flag_bits & 0x1:
            raise Refused(f"zip member {info.filename!r} is encrypted")
        total += info.file_size
    if total > limit:
        raise Refused(
            f"unpacks to {total} bytes, above the limit of {limit} (INGEST_MAX_UPLOAD_BYTES)"
        )


@dataclass
class _Budget:
    """What may still be written: the running total, and each member's expansion ratio."""

    limit: int
    ratio: float
    written: int = 0

    def spend(self, info: zipfile.ZipInfo, member_written: int, chunk: int) -> None:
        self.written += chunk
        if self.written > self.limit:
            raise Refused(f"unpacks to more than {self.limit} bytes (INGEST_MAX_UPLOAD_BYTES)")
        allowed = max(self.ratio * info.compress_size, RATIO_GRACE_BYTES)
        if member_written > allowed:
            raise Refused(
                f"zip member {info.filename!r} expands more than {self.ratio:g} times "
                f"its compressed size (INGEST_MAX_ZIP_RATIO): a zip bomb?"
            )


def _extract_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, dest: Path, budget: _Budget
) -> Path:
    target = dest.joinpath(*PurePosixPath(info.filename.replace("\\", "/")).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    member_written = 0
    with archive.open(info) as source, target.open("xb") as sink:
        while chunk := source.read(_CHUNK):
            member_written += len(chunk)
            budget.spend(info, member_written, len(chunk))
            sink.write(chunk)
    return target


def extract_zip(path: Path, *, dest: Path) -> list[tuple[Path, str]]:
    """Extract a zip into ``dest``; return (extracted file, member name). Raises Refused,
    as soon as a limit is crossed, and then leaves nothing behind."""
    limit = settings.INGEST_MAX_UPLOAD_BYTES
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise Refused("not a readable zip archive") from exc
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        _check_members(members, limit=limit)
        budget = _Budget(limit=limit, ratio=settings.INGEST_MAX_ZIP_RATIO)
        dest.mkdir(parents=True, exist_ok=False)
        try:
            return [
                (_extract_member(archive, info, dest=dest, budget=budget), info.filename)
                for info in members
            ]
        except FileExistsError as exc:
            shutil.rmtree(dest, ignore_errors=True)
            raise Refused("the zip archive names the same member twice") from exc
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            shutil.rmtree(dest, ignore_errors=True)
            raise Refused(f"damaged zip archive ({type(exc).__name__})") from exc
        except Refused:
            shutil.rmtree(dest, ignore_errors=True)
            raise


def _add_file(collected: Collected, path: Path, file: str, workdir: Path, nested: bool) -> None:
    if _is_zip(path):
        if nested:
            collected.skipped.append(SkippedFile(file, "nested zip archives are not supported"))
            return
        collected.archives += 1
        dest = workdir / f"zip-{collected.archives}"
        try:
            members = extract_zip(path, dest=dest)
        except Refused as refusal:
            collected.skipped.append(SkippedFile(file, refusal.reason))
            return
        for member_path, name in sorted(members, key=lambda m: m[1]):
            if any(_ignored(part) for part in PurePosixPath(name).parts):
                collected.ignored += 1
                continue
            _add_file(collected, member_path, f"{file}:{name}", workdir, nested=True)
        return
    collected.files.append(InputFile(path=path, file=file, kind=_kind(path)))


def _walk(folder: Path) -> list[Path]:
    """Regular files under ``folder``, sorted; symbolic links to folders are not followed."""
    found: list[Path] = []
    for root, _dirs, names in os.walk(folder, followlinks=False):
        found.extend(Path(root) / name for name in names if (Path(root) / name).is_file())
    return sorted(found)


def collect(items: list[tuple[Path, str]], *, workdir: Path) -> Collected:
    """Expand (path, name shown to the user) pairs; folders are walked, zips extracted."""
    collected = Collected()
    for path, file in items:
        if path.is_dir():
            for child in _walk(path):
                relative = child.relative_to(path)
                if any(_ignored(part) for part in relative.parts):
                    collected.ignored += 1
                    continue
                _add_file(collected, child, f"{file.rstrip('/')}/{relative}", workdir, False)
        elif path.is_file():
            _add_file(collected, path, file, workdir, nested=False)
        else:
            collected.skipped.append(SkippedFile(file, "no such file or folder"))
    return collected
