"""Build rows directly (without ingest) for tests that are about something else."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from django.contrib.auth.models import User

from annotation.label_templates import BUILTIN_TEMPLATES
from annotation.models import Case, Image, Membership, Project, Read, Revision, Series
from annotation.pixels import pixel_write

_counter = itertools.count(1)


def make_case(
    *,
    project: Project,
    orientations: tuple[str, ...] = ("sagittal", "axial"),
    rows: int = 64,
    columns: int = 48,
    slices: int = 3,
    dtype: str = "uint16",
    spacing: tuple[float, float] = (0.5, 0.75),
    seed: int = 0,
) -> Case:
    number = next(_counter)
    case = Case.objects.create(
        project=project, pseudonym=f"TEST-{number:04d}", source_key=f"test-{number}-{seed}"
    )
    rng = np.random.default_rng(seed + number)
    for series_number, orientation in enumerate(orientations, start=1):
        series = Series.objects.create(
            case=case,
            uid=f"2.25.{number}{series_number}",
            number=series_number,
            description=f"{orientation} T2",
            orientation=orientation,
            source="dicom",
            rows=rows,
            columns=columns,
            pixel_spacing_row=spacing[0],
            pixel_spacing_col=spacing[1],
            slice_thickness=3.0,
            dtype=dtype,
            window_center=1000.0,
            window_width=2000.0,
        )
        images = []
        for index in range(slices):
            if dtype == "float32":
                pixels = rng.normal(0, 1000, size=(rows, columns)).astype(np.float32)
            else:
                info = np.iinfo(np.dtype(dtype))
                pixels = rng.integers(info.min, info.max, size=(rows, columns), dtype=dtype)
            path, digest, _ = pixel_write(pixels)
            images.append(
                Image(
                    series=series,
                    index=index,
                    position=float(index) * 3.0,
                    uid=f"2.25.{number}{series_number}{index}",
                    pixel_path=path,
                    sha256=digest,
                    min_value=float(pixels.min()),
                    max_value=float(pixels.max()),
                )
            )
        Image.objects.bulk_create(images)
    return case


# Bulk builders: hundreds of rows in a few queries, for tests about how a reply scales.


def make_users(*, count: int) -> list[User]:
    """Users who cannot sign in with a password (tests sign them in with force_login)."""
    number = next(_counter)
    users = [User(username=f"user-{number}-{i}", password="!") for i in range(count)]
    return User.objects.bulk_create(users)


def make_projects(*, count: int, members: Sequence[User] = (), role: str = "lead") -> list[Project]:
    """Projects with the built-in template, each with `members` in `role`."""
    number = next(_counter)
    template = BUILTIN_TEMPLATES["cervical-compression"]()
    projects = Project.objects.bulk_create(
        Project(slug=f"p-{number}-{i}", name=f"Project {number} {i}", template=template)
        for i in range(count)
    )
    make_memberships(projects=projects, users=members, role=role)
    return projects


def make_memberships(*, projects: Sequence[Project], users: Sequence[User], role: str) -> None:
    Membership.objects.bulk_create(
        Membership(project=project, user=user, role=role) for project in projects for user in users
    )


def make_cases_bulk(
    *, project: Project, count: int, series: int = 2, slices: int = 3
) -> list[Case]:
    """`count` cases of `series` series of `slices` images; every image shares one stored
    64 x 48 pixel file."""
    number = next(_counter)
    path, digest, _ = pixel_write(np.full((64, 48), number % 4000, np.uint16))
    cases = Case.objects.bulk_create(
        Case(project=project, pseudonym=f"BULK-{number}-{i}", source_key=f"bulk-{number}-{i}")
        for i in range(count)
    )
    rows = Series.objects.bulk_create(
        _series(case=case, number=k + 1) for case in cases for k in range(series)
    )
    Image.objects.bulk_create(
        Image(
            series=row,
            index=index,
            position=index * 3.0,
            uid=f"{row.uid}.{index}",
            pixel_path=path,
            sha256=digest,
            min_value=0.0,
            max_value=float(number % 4000),
        )
        for row in rows
        for index in range(slices)
    )
    return cases


def _series(*, case: Case, number: int) -> Series:
    return Series(
        case=case,
        uid=f"2.25.{case.pk}.{number}",
        number=number,
        description="sagittal T2",
        orientation="sagittal",
        source="dicom",
        rows=64,
        columns=48,
        pixel_spacing_row=0.5,
        pixel_spacing_col=0.75,
        slice_thickness=3.0,
        dtype="uint16",
        window_center=1000.0,
        window_width=2000.0,
    )


def make_reads(*, case: Case, authors: Sequence[User], revisions: int = 1) -> list[Read]:
    """One human read per author on the case, each with a chain of `revisions` revisions
    (one polygon on the case's first image) whose last is the head."""
    reads = Read.objects.bulk_create(Read(case=case, kind="human", author=a) for a in authors)
    image = Image.objects.filter(series__case=case).earliest("id")
    make_revisions(reads=reads, count=revisions, images=[image])
    return reads


def make_revisions(*, reads: Sequence[Read], count: int, images: Sequence[Image]) -> None:
    """Append `count` revisions to each new read (no revision yet), each with a polygon on
    every image of `images`; the last becomes the head. One insert per revision number."""
    shape = {"label": "cord", "shape_type": "polygon", "points": [[1, 1], [9, 1], [9, 9]]}
    shapes = {str(image.pk): [shape] for image in images}
    heads: list[Revision | None] = [None] * len(reads)
    for number in range(1, count + 1):
        heads = list(
            Revision.objects.bulk_create(
                Revision(
                    read=read,
                    number=number,
                    parent=parent,
                    author=read.author,
                    shapes=shapes,
                    source="save",
                    shape_count=len(images),
                )
                for read, parent in zip(reads, heads, strict=True)
            )
        )
    for read, head in zip(reads, heads, strict=True):
        read.head = head
        read.revision_count = count
    Read.objects.bulk_update(reads, ["head", "revision_count"])
