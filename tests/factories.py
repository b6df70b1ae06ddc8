"""Build rows directly (without ingest) for tests that are about something else."""

from __future__ import annotations

import itertools

import numpy as np

from annotation.models import Case, Image, Project, Series
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
