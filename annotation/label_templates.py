"""Label templates: the labels, keypoint sets and case fields a project annotates.

The cervical compression template follows MEASUREMENTS.md (seed 003): cord and canal
polygons, the 20 vertebral corners C3..C7, and the manual calipers of the manual group.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

SHAPE_TYPES = ("polygon", "rectangle", "point", "line", "linestrip", "circle", "mask")
VIEWS = ("sagittal", "axial", "coronal", "other")
CORNERS = ("AS", "AI", "PS", "PI")
VERTEBRAE = ("C3", "C4", "C5", "C6", "C7")
VERTEBRAL_CORNERS = tuple(f"{v}_{c}" for v in VERTEBRAE for c in CORNERS)
CALIPERS_SAGITTAL = ("d_i", "d_a", "d_b", "D_i", "D_a", "D_b")
CALIPERS_AXIAL = ("T", "S")

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _label(
    name: str, color: str, shape_types: list[str], hotkey: str, views: list[str], text: str
) -> dict[str, Any]:
    return {
        "name": name,
        "color": color,
        "shape_types": shape_types,
        "hotkey": hotkey,
        "views": views,
        "description": text,
    }


def cervical_compression_template() -> dict[str, Any]:
    labels = [
        _label("cord", "#ff5a5f", ["polygon", "mask"], "c", ["sagittal", "axial"], "Spinal cord"),
        _label(
            "canal",
            "#3ddc97",
            ["polygon", "mask"],
            "v",
            ["sagittal", "axial"],
            "Dural sac (anterior/posterior dura; no ligament, bone, disc or epidural fat)",
        ),
    ]
    caliper_colours = {"d": "#4cc9f0", "D": "#f4a261"}
    for name in CALIPERS_SAGITTAL:
        labels.append(
            _label(
                name,
                caliper_colours[name[0]],
                ["line"],
                "",
                ["sagittal"],
                ("Cord" if name[0] == "d" else "Canal") + f" AP diameter {name} (manual caliper)",
            )
        )
    labels.append(
        _label("T", "#b5179e", ["line"], "", ["axial"], "Transverse diameter of the cord")
    )
    labels.append(_label("S", "#7209b7", ["line"], "", ["axial"], "AP diameter of the cord"))
    labels.append(
        _label(
            "finding",
            "#e9c46a",
            ["rectangle"],
            "f",
            ["sagittal", "axial"],
            "A box around a finding (disc bulge, herniation, stenosis, signal change)",
        )
    )
    labels.append(
        _label("marker", "#90e0ef", ["point"], "m", ["sagittal", "axial"], "A point of interest")
    )
    return {
        "name": "cervical-compression",
        "title": "Cervical cord compression (MSCC, MCC, TA, CR)",
        "labels": labels,
        "keypoint_sets": [
            {
                "name": "vertebral_corners",
                "view": "sagittal",
                "color": "#ffd166",
                "points": list(VERTEBRAL_CORNERS),
                "description": "Corners of the C3-C7 vertebral bodies' cortical outline",
            }
        ],
        "case_fields": [
            {
                "name": "compression_present",
                "type": "checkbox",
                "label": "Cord compression present",
            },
            {
                "name": "image_quality",
                "type": "choice",
                "label": "Image quality",
                "choices": ["good", "acceptable", "poor"],
            },
        ],
    }


BUILTIN_TEMPLATES = {"cervical-compression": cervical_compression_template}


def _label_errors(labels: list[Any]) -> tuple[list[str], set[str]]:
    """Problems of the labels, and the names seen."""
    errors: list[str] = []
    seen: set[str] = set()
    for i, label in enumerate(labels):
        where = f"labels[{i}]"
        if (
            not isinstance(label, dict)
            or not isinstance(label.get("name"), str)
            or not label["name"]
        ):
            errors.append(f"{where}: needs a name")
            continue
        name = label["name"]
        if name in seen:
            errors.append(f"{where}: duplicate label {name!r}")
        seen.add(name)
        color = label.get("color", "")
        if not isinstance(color, str) or not _COLOUR.match(color):
            errors.append(f"{where} ({name}): color must look like #rrggbb")
        types = label.get("shape_types")
        if not isinstance(types, list) or not types or any(t not in SHAPE_TYPES for t in types):
            errors.append(f"{where} ({name}): shape_types must be a list from {SHAPE_TYPES}")
    return errors, seen


def _keypoint_errors(keypoint_sets: list[Any], labels: set[str]) -> list[str]:
    errors: list[str] = []
    for j, kset in enumerate(keypoint_sets):
        where = f"keypoint_sets[{j}]"
        points = kset.get("points") if isinstance(kset, dict) else None
        if (
            not isinstance(points, list)
            or not points
            or not all(isinstance(p, str) for p in points)
        ):
            errors.append(f"{where}: points must be a list of names")
            continue
        if len(set(points)) != len(points):
            errors.append(f"{where}: point names must be unique")
        clash = labels.intersection(points)
        if clash:
            errors.append(f"{where}: point names clash with labels {sorted(clash)}")
    return errors


def _case_field_errors(case_fields: list[Any]) -> list[str]:
    errors: list[str] = []
    for k, field in enumerate(case_fields):
        where = f"case_fields[{k}]"
        if not isinstance(field, dict) or field.get("type") not in {"checkbox", "choice", "text"}:
            errors.append(f"{where}: type must be checkbox, choice or text")
        elif field["type"] == "choice" and not field.get("choices"):
            errors.append(f"{where}: a choice field needs choices")
    return errors


def _list_of(template: dict[str, Any], key: str, errors: list[str]) -> list[Any]:
    value = template.get(key, [])
    if isinstance(value, list):
        return value
    errors.append(f"{key}: must be a list")
    return []


def template_validate(template: Any) -> dict[str, Any]:
    """Check a label template; raise ValidationError naming each problem."""
    if not isinstance(template, dict):
        raise ValidationError({"template": ["must be an object"]})
    errors: list[str] = []
    labels = template.get("labels")
    if not isinstance(labels, list) or not labels:
        errors.append("labels: must be a non-empty list")
        labels = []
    label_errors, seen = _label_errors(labels)
    errors += label_errors
    errors += _keypoint_errors(_list_of(template, "keypoint_sets", errors), seen)
    errors += _case_field_errors(_list_of(template, "case_fields", errors))
    if errors:
        raise ValidationError({"template": errors})
    return template


def keypoint_names(template: dict[str, Any]) -> set[str]:
    return {name for kset in template.get("keypoint_sets", []) for name in kset.get("points", [])}
