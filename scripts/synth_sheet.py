"""Contact sheet of domain-randomised training images (issue 14 §1) and the generator's speed.

    python scripts/synth_sheet.py [--count 12] [--first 0] [--out docs/synth/contact_sheet.png]

Each tile: the image at its physical aspect, the cord outline (green), the 20 corners C3-C7
(red) and the other bodies' corners (blue); the caption names the contrast family, the field
of view and the acquired resolution (rows x columns) / slice thickness in mm.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    import cv2

    from fixtures.synth_render import contact_sheet, synth_sagittal

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "synth" / "contact_sheet.png")
    args = parser.parse_args()
    started = time.perf_counter()
    images = [synth_sagittal(seed) for seed in range(args.first, args.first + args.count)]
    per_image = (time.perf_counter() - started) / max(1, args.count) * 1000
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), contact_sheet(images), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{args.out}: {args.count} images, {per_image:.1f} ms per image")


if __name__ == "__main__":
    main()
