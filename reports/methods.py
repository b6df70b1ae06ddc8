"""The report's methods paragraph, written from the project's own design and records."""

from __future__ import annotations

from reports.selectors import GOLD, GROUP_TITLES, ReportData

_ROLE_NAMES = {"annotator": "annotator", "reader": "independent reader"}


def _reads_sentence(required: dict[str, dict[str, int]]) -> str:
    parts = []
    for split in ("train", "tune", "test"):
        needs = required.get(split, {})
        wants = [
            f"{n} {_ROLE_NAMES.get(role, role)} read{'s' if n != 1 else ''}"
            for role, n in needs.items()
            if n
        ]
        parts.append(f"{split}: {', '.join(wants) if wants else 'no reads'}")
    return "Reads required per case: " + "; ".join(parts) + "."


def _design_sentences(data: ReportData) -> list[str]:
    d = data.design
    if d["split_method"] == "list":
        split = "Cases were assigned to the train, tune and test splits by an uploaded list."
    else:
        train, tune, test = d["ratio"]
        split = (
            f"Cases were split at random into train, tune and test sets at {train}:{tune}:{test} "
            f"(seed {d['seed']})."
        )
    aided = sorted(r for r, on in d["aided"].items() if on)
    unaided = sorted(r for r, on in d["aided"].items() if not on)
    aid = f"The model's pre-label was shown to {', '.join(aided) or 'no role'}"
    aid += f" and withheld from {', '.join(unaided)}." if unaided else "."
    blind = (
        "Reads were blinded: annotators and independent readers saw only their own reads and "
        "the machine reads, never each other's."
        if data.blinded
        else "Reads were not blinded: every member could see every read."
    )
    overlap = (
        f"{d['overlap_percent']} % of cases, chosen from the seed, received a second "
        "annotator read for inter-reader agreement."
    )
    return [split, _reads_sentence(d["reads_required"]), overlap, blind, aid]


def _counts_sentence(data: ReportData) -> str:
    gold = {split: states.get("gold", 0) for split, states in data.cases_by_split_state.items()}
    total = sum(sum(states.values()) for states in data.cases_by_split_state.values())
    per_split = ", ".join(f"{s} {n}" for s, n in sorted(gold.items()) if n) or "none"
    groups = ", ".join(
        f"{GROUP_TITLES[g].lower()} {n}" for g, n in data.reads_per_group.items() if g != GOLD
    )
    return (
        f"Of {total} cases, {sum(gold.values())} have a gold read signed by a reviewer "
        f"({per_split}); reads on those cases: {groups}."
    )


def _versions_sentence(data: ReportData) -> str:
    if data.model_versions:
        models = "; ".join(
            f"{m.name} ({m.task}, sha256 {m.sha256[:12]})" for m in data.model_versions
        )
        model = f"Model reads were pre-labels of the model version(s) {models}."
    else:
        model = "No model version is recorded for the model reads (none were pre-labelled)."
    algorithms = ", ".join(data.algorithm_versions) or "none stored"
    return (
        f"{model} Measurements were computed by the product's measurement layer, algorithm "
        f"version {algorithms}."
    )


STATISTICS = (
    "MSCC and MCC follow Karpova et al. (2013) with the mean C3 and C7 widths as the normal "
    "references, TA is the cord area on the axial slice of the narrowest level and CR its "
    "AP over transverse diameter (seed 003). Dice and IoU compare masks rasterised at each "
    "image's own grid, per case, pooling a structure's images of one view; an annotator's "
    "read counts as first submitted (before review), an independent reader's as last "
    "submitted, gold as last signed. Values are mean ± SD (sample SD). ICC(2,1) (two-way "
    "random, absolute agreement, single rater) and ICC(3,1) (consistency) follow Shrout & "
    "Fleiss (1979) and McGraw & Wong (1996) with 95 % confidence intervals; the P value is "
    "that of the ICC's F test against ICC = 0, as in seed 003's Table 2. Bland–Altman "
    "analysis gives the mean difference (bias) and the 95 % limits of agreement (bias ± "
    "1.96 SD). Cases without a value in every compared group are left out of that "
    "comparison (the n given). In Table 4 an axial slice's disc level is its labelme image "
    "flag where one is set, otherwise the level whose disc centre (the mean of the adjacent "
    "endplates' vertebral corners on the gold read's sagittal image, mapped to patient "
    "coordinates) lies closest to the slice plane, within half the disc height plus half "
    "the slice spacing; C2/3 and C7/T1 are placed half the mean disc height beyond C3 and "
    "C7, as the template has no C2 or T1 corners."
)


def methods_paragraphs(data: ReportData, *, split: str) -> list[str]:
    scope = "every split" if split == "all" else f"the {split} split, as in seed 003"
    return [
        " ".join([*_design_sentences(data), _counts_sentence(data)]),
        _versions_sentence(data)
        + f" Table 2, Table 3 and the Bland–Altman plots use {scope}; Table 1 covers every split.",
        STATISTICS,
    ]
