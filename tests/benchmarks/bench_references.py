"""The shipped models on the project-annotated real references (issue 14 §3): per volume (fold)
canal Dice and corner radial error, recomputed through the product's prediction path with the
shipped ONNX files (a few seconds). Folds a model trained on are marked `held_out: false`."""

from __future__ import annotations

from tests.benchmarks.common import emit


def main() -> None:
    from inference.training.references import score_shipped

    targets = {"canal": {"sagittal": ">= 86 %", "axial": ""}}
    for task, result in score_shipped().items():
        counting = result.get("counting") or {}
        for fov, group in (counting.get("synthetic") or {}).items():
            # Levels C2..C7 named by counting from C2 (issue 14 §5), held-out synthetic images.
            emit(
                f"counting.{task}.synthetic_{fov}.levels_right",
                100 * (group["right_share"] or 0.0),
                "%",
                "",
                right=group["right"],
                wrong=group["wrong"],
                uncounted=group["uncounted"],
                images=group["images"],
            )
        for name, item in (counting.get("references") or {}).items():
            verdicts = list(item["levels"].values())
            emit(
                f"counting.{task}.{name}.levels_right",
                sum(v == "right" for v in verdicts),
                "levels",
                "",
                of=len(verdicts),
                wrong=sum(v.startswith("wrong") for v in verdicts),
                anchor=item["anchor"],
                reason=item["reason"],
            )
        for name, item in (result.get("lateral") or {}).items():
            # Slices beside the spine given a cord (issue 14: pre-labels a physician must
            # erase), before and after the lateral extent; none where the volume has no mask.
            if "false_after" in item:
                emit(
                    f"lateral.{task}.{name}.cord_on_slices_without_cord",
                    item["false_after"],
                    "slices",
                    "",
                    of=item["without_cord"],
                    before=item["false_before"],
                    manual_slices_lost=item["lost"],
                    midline=item["mid"],
                    manual_centre=item["manual_centre"],
                )
        for item in result.get("product_keypoints", {}).values():
            # The corners a pre-label job keeps (on the slice with the largest masks).
            emit(
                f"references.{task}.{item['volume']}.prelabel_keypoint_mre",
                item["mre_mm"],
                "mm",
                "<= 2 mm (held out)",
                slice=item["slice"],
                offset_mm=item["offset_mm"],
                shown=item["shown"],
                held_out=item["held_out"],
            )
        for volume, fold in result["folds"].items():
            extra = {"held_out": fold["held_out"], "subject_seen": fold["subject_seen"]}
            canal = fold["canal_dice"]
            if canal.get("mean") is not None:
                emit(
                    f"references.{task}.{volume}.canal_dice",
                    100 * canal["mean"],
                    "%",
                    targets["canal"][task],
                    slices=canal["n"],
                    **extra,
                )
            whole = fold["canal_dice_whole"]
            if task == "sagittal" and whole.get("mean") is not None:
                # Also counts a predicted canal running on past the reference's C2/C3, C7/T1 cuts.
                emit(
                    f"references.{task}.{volume}.canal_dice_whole_slice",
                    100 * whole["mean"],
                    "%",
                    "",
                    **extra,
                )
            kp = fold.get("keypoints")
            if kp and kp["n"]:
                emit(
                    f"references.{task}.{volume}.keypoint_mre",
                    kp["mre_mm"],
                    "mm",
                    "<= 2 mm (held out)",
                    corners=kp["n"],
                    missing=kp["missing"],
                    **extra,
                )
                emit(
                    f"references.{task}.{volume}.keypoints_within_4mm",
                    100 * kp["within_4mm"],
                    "%",
                    "",
                    **extra,
                )
                emit(
                    f"references.{task}.{volume}.keypoints_shown",
                    kp["shown"],
                    "corners",
                    "",
                    of=kp["n"],
                    **extra,
                )
                if kp["shown"]:
                    emit(
                        f"references.{task}.{volume}.shown_keypoints_within_4mm",
                        100 * kp["shown_within_4mm"],
                        "%",
                        ">= 95 %",
                        **extra,
                    )
                emit(
                    f"references.{task}.{volume}.keypoints_within_2mm",
                    100 * kp["within_2mm"],
                    "%",
                    "",
                    **extra,
                )


if __name__ == "__main__":
    main()
