"""DICOM SEG export (highdicom): one binary segmentation per read and series.

Layout under the format's folder, per case (named by its pseudonym):
- ``<pseudonym>/source/<SOP Instance UID>.dcm``: the de-identified MR images the SEGs
  reference (exports.formats.dicom_source), only the slices a read drew a structure on;
- ``<pseudonym>/<read tag>-series<number>-seg.dcm``: the read's structures on that series,
  one segment per structure (cord, canal) with the pixels the measurements use
  (exports.formats.masks).
A model read's segments are AUTOMATIC with the model version as algorithm identification;
every other read's are MANUAL. The content creator is never named.
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from exports.bundle import CaseBundle, ExportContext, ReadBundle, SeriesBundle
from exports.formats import ExportFormatError, FormatSpec
from exports.formats.dicom_source import (
    SOFTWARE,
    derived_uid,
    save_dataset,
    source_images,
    write_sources,
)
from exports.formats.masks import structure_masks
from measurements.core import ALGORITHM_VERSION

# Private coding scheme for labels without a standard code (PS3.16 8.2: "99" prefix).
PRIVATE_SCHEME = "99SPINELABEL"
_PROPERTY_TYPES: dict[str, hd.sr.CodedConcept] = {
    "cord": hd.sr.CodedConcept.from_code(codes.SCT.SpinalCord),
    "canal": hd.sr.CodedConcept.from_code(codes.SCT.SpinalCanalStructure),
}


def property_type(label: str) -> hd.sr.CodedConcept:
    """SNOMED CT for the template's cord and canal; a private code for any other label."""
    known = _PROPERTY_TYPES.get(label)
    if known is not None:
        return known
    return hd.sr.CodedConcept(label[:16], PRIVATE_SCHEME, label[:64])


def _segment(number: int, label: str, read: ReadBundle) -> hd.seg.SegmentDescription:
    automatic = read.kind == "model"
    algorithm = None
    if automatic:
        algorithm = hd.AlgorithmIdentificationSequence(
            name=f"{SOFTWARE} model",
            family=codes.cid7162.ArtificialIntelligence,
            version=(read.model_version or "unknown")[:64],
        )
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=label[:64],
        segmented_property_category=codes.SCT.AnatomicalStructure,
        segmented_property_type=property_type(label),
        algorithm_type=(
            hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC
            if automatic
            else hd.seg.SegmentAlgorithmTypeValues.MANUAL
        ),
        algorithm_identification=algorithm,
        tracking_uid=derived_uid("segment", str(read.revision_id), label),
        tracking_id=f"{read.tag} {label}"[:64],
    )


def segmentation(
    *,
    sources: list[Dataset],
    masks: dict[str, np.ndarray],
    read: ReadBundle,
    series: SeriesBundle,
) -> Dataset:
    """The SEG of ``masks`` (label -> (len(sources), rows, columns) bool) over ``sources``."""
    labels = list(masks)
    pixel_array = np.stack([masks[label] for label in labels], axis=-1)
    seg: Dataset = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=pixel_array,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[
            _segment(number, label, read) for number, label in enumerate(labels, start=1)
        ],
        series_instance_uid=derived_uid(
            "seg-series", series.series_instance_uid, str(read.revision_id)
        ),
        series_number=1000 + series.number,
        sop_instance_uid=derived_uid("seg", series.series_instance_uid, str(read.revision_id)),
        instance_number=1,
        manufacturer=SOFTWARE,
        manufacturer_model_name=f"{SOFTWARE} export",
        software_versions=f"measurements {ALGORITHM_VERSION}",
        device_serial_number="0",
        content_label="SPINELABEL",
        content_description=f"{read.author_role} read, revision {read.revision_number}"[:64],
        omit_empty_frames=True,
    )
    return seg


class SegWriter:
    def __init__(self, folder: Path, context: ExportContext) -> None:
        self.folder = folder
        self.context = context
        self.labels = context.polygon_labels()

    def write_case(self, case: CaseBundle) -> None:
        for read in case.reads:
            for series in case.series:
                try:
                    self._write(case, read, series)
                except (ValueError, TypeError) as exc:
                    raise ExportFormatError(
                        f"{case.pseudonym}: DICOM SEG of {read.tag} on series {series.number} "
                        f"cannot be written: {exc}"
                    ) from exc

    def _write(self, case: CaseBundle, read: ReadBundle, series: SeriesBundle) -> Path | None:
        masks = structure_masks(read=read, series=series, labels=self.labels)
        present = {label: volume for label, volume in masks.items() if volume.any()}
        if not present:
            return None
        drawn = np.nonzero(np.any([v.any(axis=(1, 2)) for v in present.values()], axis=0))[0]
        images = [series.images[int(k)] for k in drawn]
        sources = source_images(
            case=case, series=series, images=images, project_slug=self.context.project_slug
        )
        case_folder = self.folder / case.pseudonym
        write_sources(case_folder / "source", sources)
        seg = segmentation(
            sources=sources,
            masks={label: volume[drawn] for label, volume in present.items()},
            read=read,
            series=series,
        )
        path = case_folder / f"{read.tag}-series{series.number}-seg.dcm"
        save_dataset(seg, path)
        return path

    def close(self) -> None:
        """Nothing spans cases: every SEG and source image is written with its case."""


def open_writer(folder: Path, context: ExportContext) -> SegWriter:
    return SegWriter(folder, context)


FORMAT = FormatSpec(name="dicom_seg", title="DICOM SEG (highdicom)", open=open_writer)
