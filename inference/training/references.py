"""Scores of a model on the project-annotated real references (fixtures/references, loaded by
`fixtures.real_references`), through the product's prediction path (`predict_slices`: the
contract's preprocessing, the network, the inverse mapping and thresholding on the original
grid, the sagittal extent rule as the contract says).

One fold per volume: the corners' radial error in mm (mean, and the share within 2 and 4 mm)
and the canal Dice per annotated slice. A sagittal canal reference stops at the C2/C3 disc
and at the C7/T1 disc (or where the image ends), so both masks are compared between those two
rows only (`Reference.band`). A corner the model does not give counts as missing, not as an
error; *shown* corners are those the product draws rather than withholds as suggestions
(`inference.runtime.withhold`: level check, calibration). The caller says which volumes the
model saw in training (`trained_on`): a fold on such a volume is not held out, and the report
says so. `score_product_keypoints` judges the corners on the slice a pre-label job keeps them
on; `python -m inference.training.references` scores the shipped models and writes
`inference/shipped/references.json`, the model card's section and its pictures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from inference.runtime.contract import ModelContract
from inference.runtime.keypoint_slice import keypoint_slice
from inference.runtime.predict import SlicePrediction, predict_slices
from inference.runtime.withhold import shapes_and_suggestions
from inference.training import count_scores, lateral_scores

if TYPE_CHECKING:
    from fixtures.real_references import Reference

RADII_MM = (2.0, 4.0)

# The names `inference.training.data` gives the real volumes, as fixtures.real keys.
TRAINING_NAMES = {
    "t2": "sct_testing_t2",
    "t1": "sct_testing_t1",
    "t2s": "sct_testing_t2s",
    "mt": "sct_testing_mt",
    "example_t2": "sct_example_t2",
}
# sct_testing_t2 is a crop of sct_example_t2 (the same voxels), and the T1 is the same subject in
# the same session: a model trained on one of them has seen the subject of the other two.
SAME_SUBJECT = ("sct_example_t2", "sct_testing_t2", "sct_testing_t1")
CROP_OF = {"sct_testing_t2": "sct_example_t2"}


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """2|A∩B| / (|A|+|B|); 1.0 when both are empty."""
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def keypoint_errors_mm(
    prediction: SlicePrediction, reference: Reference
) -> tuple[dict[str, float], list[str]]:
    """Radial error in mm of each reference corner the model gave, and the names it missed."""
    row_mm, col_mm = reference.spacing
    errors: dict[str, float] = {}
    missing: list[str] = []
    for name, (x, y) in reference.keypoints.items():
        point = prediction.keypoints.get(name)
        if point is None:
            missing.append(name)
            continue
        errors[name] = float(np.hypot((point.x - x) * col_mm, (point.y - y) * row_mm))
    return errors, missing


def canal_dice(
    prediction: SlicePrediction, reference: Reference, *, within_band: bool = True
) -> float | None:
    """Dice of the predicted canal with the reference, inside the reference's band (or over the
    whole slice, which also counts a sagittal mask running on past the reference's cuts); None
    when the slice has no canal reference."""
    if reference.canal is None:
        return None
    band = reference.band() if within_band else np.ones(reference.image.shape, dtype=bool)
    return _dice_in(prediction, "canal", reference.canal_mask(), band)


def _dice_in(prediction: SlicePrediction, label: str, truth: np.ndarray, band: np.ndarray) -> float:
    """Dice of the prediction's `label` mask (none: empty) with `truth`, both inside `band`."""
    predicted = prediction.masks.get(label)
    if predicted is None:
        predicted = np.zeros_like(truth)
    return dice(predicted & band, truth & band)


def cord_dice(
    prediction: SlicePrediction, reference: Reference, truth: np.ndarray | None
) -> float | None:
    """Dice of the predicted cord with the volume's manual cord mask on the reference's slice,
    inside the reference's band: seed 003's protocol (the mid-sagittal slice, C2/C3 to C7/T1),
    which the LOVO mean over every slice does not follow (it counts the lateral slices, where
    the cord is cut tangentially). `truth` is the manual cord mask on the reference's slice;
    None when the volume has none."""
    return None if truth is None else _dice_in(prediction, "cord", truth, reference.band())


def shown_keypoints(prediction: SlicePrediction, contract: ModelContract) -> set[str]:
    """The corners the product draws as pre-labels (the rest are withheld as suggestions by the
    contract's calibration, `inference.runtime.withhold`)."""
    drawn, _ = shapes_and_suggestions(prediction, contract.calibration)
    return {str(shape["label"]) for shape in drawn if shape["shape_type"] == "point"}


def _keypoint_summary(
    errors: Sequence[float], missing: int, shown: Sequence[float] = ()
) -> dict[str, Any]:
    values = np.asarray(errors, dtype=np.float64)
    out: dict[str, Any] = {"n": int(values.size), "missing": missing}
    if values.size:
        out["mre_mm"] = float(values.mean())
        out["median_mm"] = float(np.median(values))
        out["max_mm"] = float(values.max())
        for radius in RADII_MM:
            out[f"within_{radius:g}mm"] = float((values <= radius).mean())
    drawn = np.asarray(shown, dtype=np.float64)
    out["shown"] = int(drawn.size)
    if drawn.size:
        out["shown_mre_mm"] = float(drawn.mean())
        out["shown_within_4mm"] = float((drawn <= 4.0).mean())
    return out


def _dice_summary(values: Sequence[float]) -> dict[str, Any]:
    arr = np.asarray(values, dtype=np.float64)
    out: dict[str, Any] = {"n": int(arr.size)}
    if arr.size:
        out["mean"] = float(arr.mean())
        out["min"] = float(arr.min())
    return out


def score_references(
    session: Any,
    contract: ModelContract,
    references: Sequence[Reference],
    *,
    trained_on: Collection[str] = (),
    batch_size: int = 8,
    cord_truth: Callable[[Reference], np.ndarray | None] = lambda r: r.cord_mask(),
) -> dict[str, Any]:
    """Per fold (volume) and pooled scores of the references of the contract's task.

    Returns {"task", "folds": {volume: {"held_out", "subject_seen", "slices", "canal_dice":
    {"n", "mean", "min", "per_slice"}, "canal_dice_whole": (the same over the whole slice),
    "cord_dice": (the manual cord mask's, in the band; volumes with one only),
    "keypoints": {"n", "missing", "mre_mm", "median_mm", "max_mm", "within_2mm", "within_4mm",
    "shown", "shown_mre_mm", "shown_within_4mm", "per_corner", "shown_corners"}}}, "pooled":
    {"canal_dice", "canal_dice_whole", "cord_dice", "keypoints"}}. *Shown* corners are those
    the product draws as pre-labels rather than withholding them as suggestions."""
    chosen = [r for r in references if r.view == contract.task]
    predictions = predict_slices(
        session,
        contract,
        [r.image for r in chosen],
        [r.spacing for r in chosen],
        batch_size=batch_size,
    )
    by_volume: dict[str, list[tuple[Reference, SlicePrediction]]] = {}
    for reference, prediction in zip(chosen, predictions, strict=True):
        by_volume.setdefault(reference.volume, []).append((reference, prediction))
    folds: dict[str, Any] = {}
    all_dice: list[float] = []
    all_whole: list[float] = []
    all_cord: list[float] = []
    all_errors: list[float] = []
    all_shown: list[float] = []
    all_missing = 0
    for volume, pairs in sorted(by_volume.items()):
        per_slice: dict[str, float] = {}
        whole: dict[str, float] = {}
        cord: dict[str, float] = {}
        per_corner: dict[str, float] = {}
        shown: list[str] = []  # keys of per_corner the product draws
        missing: list[str] = []
        for reference, prediction in pairs:
            score = canal_dice(prediction, reference)
            score_whole = canal_dice(prediction, reference, within_band=False)
            if score is not None and score_whole is not None:
                per_slice[reference.name] = score
                whole[reference.name] = score_whole
            score_cord = cord_dice(prediction, reference, cord_truth(reference))
            if score_cord is not None:
                cord[reference.name] = score_cord
            if reference.keypoints:
                errors, lost = keypoint_errors_mm(prediction, reference)
                per_corner.update({f"{reference.name}:{k}": v for k, v in errors.items()})
                drawn = shown_keypoints(prediction, contract)
                shown += [f"{reference.name}:{k}" for k in errors if k in drawn]
                missing += lost
        fold: dict[str, Any] = {
            "held_out": volume not in trained_on,
            # Trained on another volume of the same subject (not a new person).
            "subject_seen": volume in SAME_SUBJECT and bool(set(trained_on) & set(SAME_SUBJECT)),
            "slices": [reference.name for reference, _ in pairs],
            "canal_dice": {**_dice_summary(list(per_slice.values())), "per_slice": per_slice},
            "canal_dice_whole": {**_dice_summary(list(whole.values())), "per_slice": whole},
        }
        if cord:
            fold["cord_dice"] = {**_dice_summary(list(cord.values())), "per_slice": cord}
        if per_corner or missing:
            fold["keypoints"] = {
                **_keypoint_summary(
                    list(per_corner.values()), len(missing), [per_corner[k] for k in shown]
                ),
                "per_corner": per_corner,
                "shown_corners": shown,
            }
        folds[volume] = fold
        all_dice += per_slice.values()
        all_whole += whole.values()
        all_cord += cord.values()
        all_errors += per_corner.values()
        all_shown += [per_corner[k] for k in shown]
        all_missing += len(missing)
    pooled: dict[str, Any] = {
        "canal_dice": _dice_summary(all_dice),
        "canal_dice_whole": _dice_summary(all_whole),
    }
    if all_cord:
        pooled["cord_dice"] = _dice_summary(all_cord)
    if all_errors or all_missing:
        pooled["keypoints"] = _keypoint_summary(all_errors, all_missing, all_shown)
    return {"task": contract.task, "folds": folds, "pooled": pooled}


def score_product_keypoints(
    session: Any,
    contract: ModelContract,
    references: Sequence[Reference],
    *,
    trained_on: Collection[str] = (),
    batch_size: int = 8,
) -> dict[str, Any]:
    """The corners as a pre-label job shows them: every slice of the reference's series is
    predicted and the corners are kept on the slice `keypoint_slice` picks (largest cord and
    canal), then compared with the reference's corners (drawn on the mid-sagittal slice; a few
    mm off the midline the corners barely move in the sagittal plane). Per reference slice:
    {"volume", "held_out", "slice", "reference_slice", "offset_mm", and the keypoint summary}."""
    out: dict[str, Any] = {}
    for reference in references:
        if reference.view != contract.task or not reference.keypoints:
            continue
        series = reference.series()
        predictions = predict_slices(
            session, contract, series, [reference.spacing] * len(series), batch_size=batch_size
        )
        chosen = keypoint_slice(predictions)
        errors, missing = keypoint_errors_mm(predictions[chosen], reference)
        drawn = shown_keypoints(predictions[chosen], contract)
        out[reference.name] = {
            "volume": reference.volume,
            "held_out": reference.volume not in trained_on,
            "slice": chosen,
            "reference_slice": reference.index,
            "offset_mm": abs(chosen - reference.index) * reference.slice_mm(),
            **_keypoint_summary(
                list(errors.values()), len(missing), [e for k, e in errors.items() if k in drawn]
            ),
            "per_corner": errors,
        }
    return out


def trained_volumes(real_train: Collection[str]) -> set[str]:
    """fixtures.real keys of the volumes a model trained on (training-data names as in
    `inference.training.data`), a crop counting for the volume it was cut from and back."""
    seen = {TRAINING_NAMES.get(name, name) for name in real_train}
    for crop, full in CROP_OF.items():
        if crop in seen or full in seen:
            seen |= {crop, full}
    return seen


_GENERATED = "generated by inference/training/references.py; edits are overwritten"
CARD_START = f"<!-- references:start ({_GENERATED}) -->"
CARD_END = "<!-- references:end -->"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}"


def _mm(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _held_out(fold: dict[str, Any]) -> str:
    if not fold["held_out"]:
        return "no (trained on)"
    return "yes, subject seen" if fold.get("subject_seen") else "yes"


def _level_errors(per_corner: dict[str, float]) -> dict[str, float]:
    """Mean error per vertebra ("C3" ...) of a fold's corners ("<slice>:C3_AS" -> mm)."""
    levels: dict[str, list[float]] = {}
    for key, error in per_corner.items():
        levels.setdefault(key.rsplit(":", 1)[-1].split("_")[0], []).append(error)
    return {level: float(np.mean(values)) for level, values in sorted(levels.items())}


def _run_time_lines(result: dict[str, Any]) -> list[str]:
    """The card's paragraphs on what runs after the network: counting, the lateral extent."""
    lines: list[str] = []
    if result.get("counting"):
        lines += count_scores.card_lines(result["counting"])
    if result.get("lateral"):
        lines += lateral_scores.card_lines(result["lateral"], result["lateral_extent_mm"])
    return lines


def _table(task: str, result: dict[str, Any], *, corners: bool) -> list[str]:
    """The view's table: a row per volume and the pooled row."""
    sagittal = task == "sagittal"
    cord = any("cord_dice" in fold for fold in result["folds"].values())
    head = "| volume | held out | slices | canal Dice %"
    rule = "| --- | --- | ---: | ---:"
    if sagittal:
        head += " (band) | canal Dice % (whole slice)"
        rule += " | ---:"
    if cord:
        head += " | cord Dice %" + (" (band)" if sagittal else "")
        rule += " | ---:"
    if corners:
        head += " | corners | MRE mm | ≤ 2 mm % | ≤ 4 mm % | shown | shown ≤ 4 mm %"
        rule += " | ---: | ---: | ---: | ---: | ---: | ---:"
    lines = [head + " |", rule + " |"]
    rows = [
        (f"`{volume}`", _held_out(fold), str(len(fold["slices"])), fold)
        for volume, fold in result["folds"].items()
    ]
    pooled = result["pooled"]
    rows.append(("all", "", str(pooled["canal_dice"]["n"]), pooled))
    for name, held, count, source in rows:
        line = f"| {name} | {held} | {count} | {_pct(source['canal_dice'].get('mean'))}"
        if sagittal:
            line += f" | {_pct(source.get('canal_dice_whole', {}).get('mean'))}"
        if cord:
            line += f" | {_pct(source.get('cord_dice', {}).get('mean'))}"
        if corners:
            kp = source.get("keypoints", {})
            line += (
                f" | {kp.get('n', '—')} | {_mm(kp.get('mre_mm'))}"
                f" | {_pct(kp.get('within_2mm'))} | {_pct(kp.get('within_4mm'))}"
                f" | {kp.get('shown', '—')} | {_pct(kp.get('shown_within_4mm'))}"
            )
        lines.append(line + " |")
    return lines


def card_section(scores: dict[str, Any]) -> str:
    """The model card's section on the real references, from `score_shipped`'s result."""
    lines = [
        CARD_START,
        "## Real references (project-annotated)",
        "",
        "Scored on the corners and canal outlines that this project drew on the real SCT volumes "
        "for testing (`fixtures/references/`, README there: one annotator, not clinical gold; "
        "corners about ±1 mm at C3–C5 and ±2 mm at C6–C7), through the product's prediction "
        "path with the shipped ONNX files and contracts as shipped (sagittal extent rule on), "
        "on the annotated slice itself. One fold per volume. Sagittal canal Dice (band) is counted "
        "between the reference's C2/C3 and C7/T1 cuts (or the image's end); over the whole slice "
        "it also counts a predicted canal that runs on past those cuts; cord Dice: against the "
        "volume's manual cord mask on the same slice (sagittal: inside the same cuts, seed "
        "003's protocol); corners: mean radial "
        "error (MRE) and the share within 2 and 4 mm of the reference; *shown*: the corners the "
        "product draws as pre-labels, the others being withheld as suggestions by the contract's "
        "calibration (`inference/runtime/withhold.py`). *Held out*: the model "
        "never trained on that volume; *subject seen*: it trained on another volume of the same "
        "person (`sct_testing_t2` is a crop of `sct_example_t2`, and the T1 is the same subject "
        "and session), so no sagittal fold is a new subject.",
        "",
    ]
    for task in ("sagittal", "axial"):
        result = scores.get(task)
        if result is None:
            continue
        corners = any("keypoints" in fold for fold in result["folds"].values())
        lines += [
            f"### {task.capitalize()} (`{result['model']}`, sha256 `{result['sha256'][:16]}`)",
            "",
            *_table(task, result, corners=corners),
        ]
        lines.append("")
        if corners:
            parts = [
                f"`{volume}` "
                + ", ".join(
                    f"{level} {error:.1f}"
                    for level, error in _level_errors(fold["keypoints"]["per_corner"]).items()
                )
                for volume, fold in result["folds"].items()
                if "keypoints" in fold
            ]
            lines += ["Corner MRE per vertebra (mm): " + "; ".join(parts) + ".", ""]
        pictures = result.get("pictures") or {}
        if pictures:
            lines += [
                "Reference in green, the model in red (a withheld corner: grey ring):",
                "",
                " ".join(f"![{volume}]({path})" for volume, path in pictures.items()),
                "",
            ]
        lines += _run_time_lines(result)
        product = result.get("product_keypoints") or {}
        if product:
            parts = [
                f"`{item['volume']}` slice {item['slice']} ({item['offset_mm']:.0f} mm from the "
                f"reference's), MRE {_mm(item.get('mre_mm'))} mm, "
                f"{_pct(item.get('within_4mm'))} % within 4 mm, {item['shown']} drawn"
                for item in product.values()
            ]
            lines += [
                "As a pre-label job shows them (corners kept on the slice with the largest cord "
                "and canal masks of the whole series): " + "; ".join(parts) + ".",
                "",
            ]
    lines += [
        "Targets (issue 14): corner MRE ≤ 2 mm and ≥ 95 % within 4 mm on held-out folds; "
        "sagittal canal Dice ≥ 86 %. Recompute with `python -m inference.training.references`.",
        CARD_END,
    ]
    return "\n".join(lines) + "\n"


def replace_card_section(card: str, section: str) -> str:
    """`card` with its references section replaced (appended when it has none)."""
    start, end = card.find(CARD_START), card.find(CARD_END)
    if start >= 0 and end > start:
        return card[:start] + section.rstrip("\n") + card[end + len(CARD_END) :]
    return card.rstrip("\n") + "\n\n" + section


def score_shipped(directory: Path | None = None) -> dict[str, Any]:
    """Scores of the shipped models on every reference, per task."""
    from fixtures.real_references import load_references
    from inference.runtime.sessions import create_session
    from inference.runtime.shipped import SHIPPED_DIR, shipped_model

    shipped_dir = directory or SHIPPED_DIR
    references = load_references()
    out: dict[str, Any] = {}
    for task in ("sagittal", "axial"):
        model = shipped_model(task, shipped_dir)
        config = model.metrics.get("training", {}).get("config", {})
        seen = trained_volumes(config.get("real_train", []))
        session = create_session(model.onnx_path)
        result = score_references(session, model.contract, references, trained_on=seen)
        product = score_product_keypoints(session, model.contract, references, trained_on=seen)
        out[task] = {
            **result,
            "product_keypoints": product,
            "model": model.onnx_path.name,
            "sha256": model.sha256,
        }
        extent = dict(model.contract.postprocessing.lateral_extent_mm)
        if extent:
            out[task]["lateral"] = lateral_scores.score_lateral(session, model.contract)
            out[task]["lateral_extent_mm"] = extent
        heatmap = model.contract.heatmap
        if heatmap is not None and heatmap.counting:
            out[task]["counting"] = {
                "references": count_scores.score_references(session, model.contract, references),
                "synthetic": model.metrics.get("metrics", {}).get("counting", {}).get("synthetic"),
            }
    return out


def render_reference_picture(
    reference: Reference,
    prediction: SlicePrediction,
    path: Path,
    *,
    shown: Collection[str],
    margin_mm: float = 12.0,
) -> Path:
    """The slice around its references: the reference canal and corners in green, the model's in
    red (a corner not in `shown`, withheld as a suggestion, as a hollow grey ring), square
    pixels."""
    from PIL import Image, ImageDraw

    low, high = np.percentile(reference.image, (0.5, 99.5))
    gray = np.clip((reference.image - low) / max(float(high - low), 1e-6), 0.0, 1.0) * 255.0
    points = [np.asarray(p) for p in reference.keypoints.values()]
    if reference.canal is not None:
        points += list(reference.canal)
    xy = np.asarray(points)
    row_mm, col_mm = reference.spacing
    x0 = max(int(xy[:, 0].min() - margin_mm / col_mm), 0)
    x1 = min(int(xy[:, 0].max() + margin_mm / col_mm) + 1, reference.image.shape[1])
    y0 = max(int(xy[:, 1].min() - margin_mm / row_mm), 0)
    y1 = min(int(xy[:, 1].max() + margin_mm / row_mm) + 1, reference.image.shape[0])
    scale = 480.0 / max((y1 - y0) * row_mm, (x1 - x0) * col_mm)  # picture pixels per mm
    sx, sy = scale * col_mm, scale * row_mm
    crop = Image.fromarray(gray[y0:y1, x0:x1].astype(np.uint8), "L").convert("RGB")
    picture = crop.resize((round((x1 - x0) * sx), round((y1 - y0) * sy)), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(picture)

    def at(x: float, y: float) -> tuple[float, float]:
        return (x - x0) * sx, (y - y0) * sy

    green, red, grey = (40, 220, 40), (235, 40, 40), (160, 160, 160)
    if reference.canal is not None:
        draw.polygon([at(x, y) for x, y in reference.canal], outline=green)
    outline = prediction.polygons.get("canal")
    if outline is not None:
        draw.polygon([at(float(x), float(y)) for x, y in outline], outline=red)
    for name, (x, y) in reference.keypoints.items():
        cx, cy = at(x, y)
        draw.line([(cx - 4, cy), (cx + 4, cy)], fill=green, width=2)
        draw.line([(cx, cy - 4), (cx, cy + 4)], fill=green, width=2)
        draw.text((cx - 30, cy - 6), name, fill=green)
    for name, point in prediction.keypoints.items():
        if name not in reference.keypoints:
            continue
        cx, cy = at(point.x, point.y)
        if name in shown:
            draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=red)
        else:
            draw.ellipse([cx - 4, cy - 4, cx + 4, cy + 4], outline=grey, width=1)
        draw.text((cx + 6, cy - 6), name, fill=red if name in shown else grey)
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, optimize=True)
    return path


def write_pictures(shipped_dir: Path) -> dict[str, str]:
    """A picture per sagittal reference with corners (the shipped model's corners and canal on
    the annotated slice against the reference), under `card/`; volume -> path from the card."""
    from fixtures.real_references import load_references
    from inference.runtime.sessions import create_session
    from inference.runtime.shipped import shipped_model

    model = shipped_model("sagittal", shipped_dir)
    session = create_session(model.onnx_path)
    chosen = [r for r in load_references() if r.view == "sagittal" and r.keypoints]
    predictions = predict_slices(
        session, model.contract, [r.image for r in chosen], [r.spacing for r in chosen]
    )
    out: dict[str, str] = {}
    for reference, prediction in zip(chosen, predictions, strict=True):
        relative = f"card/references_{reference.name}.png"
        render_reference_picture(
            reference,
            prediction,
            shipped_dir / relative,
            shown=shown_keypoints(prediction, model.contract),
        )
        out[reference.volume] = relative
    return out


def write_shipped_scores(directory: Path | None = None) -> dict[str, Any]:
    """Score the shipped models, store `references.json` beside them and update the card."""
    from inference.runtime.shipped import SHIPPED_DIR

    shipped_dir = directory or SHIPPED_DIR
    scores = score_shipped(shipped_dir)
    scores["sagittal"]["pictures"] = write_pictures(shipped_dir)
    (shipped_dir / "references.json").write_text(
        json.dumps(scores, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    card = shipped_dir / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8") if card.exists() else "# Shipped models: card\n"
    card.write_text(replace_card_section(text, card_section(scores)), encoding="utf-8")
    return scores


if __name__ == "__main__":
    for task, result in write_shipped_scores().items():
        print(task, json.dumps(result["pooled"]))
