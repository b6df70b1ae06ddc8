"""Group DICOM slices into studies and series, check them, and plan their rows.

A study is one case. A DICOM series whose slices differ in size, orientation or echo is
split into one stored series per stack (a three-plane localiser, a dual-echo series).
Slices are sorted by their position along the slice normal (IPP · normal).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

import numpy as np
from django.conf import settings
from pydicom import dcmread
from pydicom.dataset import Dataset

from annotation.ingest.deid import deidentify, header_json, replacement_uid
from annotation.ingest.dicom_read import DicomSlice
from annotation.ingest.imaging import (
    common_dtype,
    default_window,
    median_spacing,
    orientation_of,
    slice_normal,
    thumbnail_png,
)
from annotation.ingest.pixelstore import PixelWriter, StoredSlice
from annotation.ingest.types import PlannedImage, PlannedSeries, PlannedStudy, SkippedFile
from annotation.pixels import pixel_read

_HEADER_DROP = ("PerFrameFunctionalGroupsSequence",)


@dataclass
class _Bucket:
    """The slices of one source series, and the file whose header the series keeps."""

    header_path: Path
    rank: tuple[int, str]
    slices: list[DicomSlice] = field(default_factory=list)
    # The header file's bytes where instances came as bytes (a PACS) and not as files.
    header_data: bytes | None = None


@dataclass
class _Stack:
    slices: list[DicomSlice]
    stored: list[StoredSlice]


class DicomCollector:
    """Reads files one by one, then plans the studies they form."""

    def __init__(self, *, salt: str, writer: PixelWriter) -> None:
        self._salt = salt
        self._writer = writer
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._seen: set[tuple[str, str]] = set()
        self.refused: list[SkippedFile] = []
        self.notes: list[str] = []
        # file -> (study UID, slice key): lets a labelme JSON name a DICOM as its image.
        self.keys_by_path: dict[Path, tuple[str, str]] = {}

    def add(self, slices: list[DicomSlice], data: bytes | None = None) -> None:
        """Take the slices of one file (see dicom_worker.read_dicom_files), or of one
        instance read from its bytes (``data``, kept while it is the series' header)."""
        first = slices[0]
        file = first.file
        bucket_key = (first.study_uid, first.series_uid)
        rank = (first.instance_number, file)
        bucket = self._buckets.get(bucket_key)
        if bucket is None:
            bucket = self._buckets[bucket_key] = _Bucket(
                header_path=first.path, rank=rank, header_data=data
            )
        elif rank < bucket.rank:
            bucket.header_path, bucket.rank, bucket.header_data = first.path, rank, data
        fresh = [s for s in slices if (first.study_uid, s.key) not in self._seen]
        if len(fresh) < len(slices):
            self.notes.append(f"{file}: the same instance was given twice; kept once")
        self._seen.update((first.study_uid, s.key) for s in fresh)
        bucket.slices.extend(fresh)
        self.keys_by_path[first.path] = (first.study_uid, first.key)

    def studies(self) -> list[PlannedStudy]:
        by_study: dict[str, PlannedStudy] = {}
        for (study_uid, series_uid), bucket in self._buckets.items():
            for series, files in self._plan_bucket(series_uid, bucket):
                study = by_study.get(study_uid)
                if study is None:
                    study = by_study[study_uid] = PlannedStudy(
                        identity=study_uid, label=files[0], series=[]
                    )
                study.series.append(series)
                study.files.extend(files)
        for study in by_study.values():
            study.series.sort(key=lambda s: (s.number, s.uid))
            seen: set[Path] = set()
            for (_study_uid, series_uid), bucket in self._buckets.items():
                if _study_uid != study.identity:
                    continue
                folder = replacement_uid(salt=self._salt, original=series_uid)
                for item in bucket.slices:
                    if item.path not in seen:
                        seen.add(item.path)
                        name = replacement_uid(salt=self._salt, original=item.sop_uid)
                        study.originals.append((item.path, f"{folder}/{name}.dcm"))
        return list(by_study.values())

    def _refuse(self, slices: list[DicomSlice], reason: str) -> None:
        for file in sorted({s.file for s in slices}):
            self.refused.append(SkippedFile(file, reason))

    def _stored(self, slices: list[DicomSlice]) -> _Stack | None:
        stored = []
        kept = []
        for item in slices:
            try:
                stored.append(item.stored())
            except OSError as exc:
                self._refuse([item], f"could not be stored ({exc.strerror or 'I/O error'})")
                continue
            kept.append(item)
        return _Stack(kept, stored) if kept else None

    def _plan_bucket(
        self, series_uid: str, bucket: _Bucket
    ) -> list[tuple[PlannedSeries, list[str]]]:
        modalities = sorted({s.modality for s in bucket.slices})
        if len(modalities) > 1:
            self._refuse(bucket.slices, f"its series mixes modalities ({', '.join(modalities)})")
            return []
        stacks: dict[tuple[object, ...], list[DicomSlice]] = defaultdict(list)
        for item in bucket.slices:
            orientation = tuple(round(v, 3) for v in item.orientation) if item.orientation else None
            stacks[(item.rows, item.columns, orientation, item.echo)].append(item)
        ordered = sorted(stacks.values(), key=lambda g: min(s.instance_number for s in g))
        planned = []
        for number, group in enumerate(ordered):
            uid_source = series_uid if len(ordered) == 1 else f"{series_uid}#{number}"
            limit = settings.INGEST_MAX_SERIES_SLICES
            if len(group) > limit:
                self._refuse(
                    group,
                    f"its series has {len(group)} slices, above the limit of {limit}"
                    " (INGEST_MAX_SERIES_SLICES)",
                )
                continue
            stack = self._stored(group)
            if stack is None:
                continue
            uid = replacement_uid(salt=self._salt, original=uid_source)
            header = self._header(bucket.header_path, bucket.header_data)
            planned.append((self._plan_stack(uid, stack, header), [s.file for s in group]))
        if len(ordered) > 1 and planned:
            self.notes.append(
                f"{bucket.slices[0].file}: its series holds {len(ordered)} stacks (size,"
                " orientation or echo differ); stored as separate series"
            )
        return planned

    def _header(self, path: Path, data: bytes | None = None) -> Dataset:
        """The header the series keeps, read again (files are read once for their pixels;
        keeping every dataset in memory would cost more than this one read per series)."""
        header = dcmread(path if data is None else BytesIO(data), stop_before_pixels=True)
        for keyword in _HEADER_DROP:
            if keyword in header:
                delattr(header, keyword)
        return header

    def _plan_stack(self, uid: str, stack: _Stack, header_source: Dataset) -> PlannedSeries:
        first = stack.slices[0]
        geometric = all(s.orientation and s.position for s in stack.slices)
        if geometric and first.orientation is not None:
            row, column = list(first.orientation[:3]), list(first.orientation[3:])
            normal = slice_normal(row, column)
            positions = [float(np.dot(normal, s.position or ())) for s in stack.slices]
            orientation = orientation_of(row, column)
        else:
            row, column = (
                (list(first.orientation[:3]), list(first.orientation[3:]))
                if first.orientation
                else ([], [])
            )
            positions = [float(s.instance_number or s.frame or 0) for s in stack.slices]
            orientation = orientation_of(row, column)
            self.notes.append(
                f"{first.file}: no patient position on every slice; ordered by instance number"
            )
        order = sorted(
            range(len(stack.slices)),
            key=lambda i: (positions[i], stack.slices[i].instance_number, stack.slices[i].key),
        )
        slices = [stack.slices[i] for i in order]
        stored = [stack.stored[i] for i in order]
        positions = [positions[i] for i in order]
        low = min(s.min_value for s in stored)
        high = max(s.max_value for s in stored)
        dtype = common_dtype([s.dtype for s in slices], low, high)
        stored = [
            self._restore(item, kept, dtype) if item.dtype != dtype else kept
            for item, kept in zip(slices, stored, strict=True)
        ]
        window = first.window or default_window([s.sample for s in slices])
        middle = len(slices) // 2
        spacing = first.spacing
        thumbnail = thumbnail_png(
            pixel_read(stored[middle].path, dtype=dtype, rows=first.rows, columns=first.columns),
            center=window[0],
            width=window[1],
            spacing=spacing or (1.0, 1.0),
        )
        header = header_json(deidentify(header_source, salt=self._salt))
        header["0020000E"] = {"vr": "UI", "Value": [uid]}
        description = str(header_source.get("SeriesDescription") or "")[:200]
        images = [
            PlannedImage(
                key=item.key,
                uid=replacement_uid(salt=self._salt, original=item.key),
                position=position,
                image_position=list(item.position) if item.position else [],
                pixel_path=kept.path,
                sha256=kept.sha256,
                min_value=kept.min_value,
                max_value=kept.max_value,
            )
            for item, kept, position in zip(slices, stored, positions, strict=True)
        ]
        return PlannedSeries(
            uid=uid,
            number=first.series_number,
            description=description,
            orientation=orientation,
            modality=first.modality[:16],
            source="dicom",
            rows=first.rows,
            columns=first.columns,
            pixel_spacing_row=spacing[0] if spacing else 1.0,
            pixel_spacing_col=spacing[1] if spacing else 1.0,
            spacing_known=spacing is not None,
            slice_thickness=first.thickness,
            slice_spacing=median_spacing(positions) if geometric else None,
            row_direction=row,
            column_direction=column,
            dtype=dtype,
            window_center=window[0],
            window_width=window[1],
            header=header,
            thumbnail=thumbnail,
            images=images,
        )

    def _restore(self, item: DicomSlice, kept: StoredSlice, dtype: str) -> StoredSlice:
        """Rewrite a slice in the series' common dtype (its neighbours came out wider)."""
        pixels = pixel_read(kept.path, dtype=item.dtype, rows=item.rows, columns=item.columns)
        return self._writer.write(pixels.astype(dtype))
