import { describe, expect, it } from "vitest";
import type { Shape } from "../../contract/types";
import { diffRevisions } from "../../core/diff";
import { diffLine, relativeTime } from "./historyRows";

const shape = (label: string, points: [number, number][], shape_type: Shape["shape_type"] = "polygon"): Shape => ({
  label,
  points,
  shape_type,
  group_id: null,
  description: "",
  flags: {},
});

describe("history rows", () => {
  it("states times relative to now", () => {
    const now = Date.parse("2026-12-06T02:00:00Z");
    expect(relativeTime("2026-12-06T01:59:50Z", now)).toBe("just now");
    expect(relativeTime("2026-12-06T01:55:00Z", now)).toBe("5 min ago");
    expect(relativeTime("2026-12-05T23:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-12-04T02:00:00Z", now)).toBe("2 d ago");
  });

  it("sums a diff in one line with the largest displacement in mm", () => {
    const before = {
      "1": [
        shape("cord", [
          [0, 0],
          [10, 0],
          [10, 10],
        ]),
        shape("canal", [
          [0, 0],
          [20, 0],
          [20, 20],
        ]),
      ],
    };
    const after = {
      "1": [
        shape("cord", [
          [0, 0],
          [10, 0],
          [10, 14],
        ]),
        shape("marker", [[5, 5]], "point"),
      ],
    };
    const line = diffLine(diffRevisions(before, after, () => [0.5, 0.5]));
    expect(line).toBe("1 added · 1 removed · 1 moved (largest 2.00 mm, cord)");
    expect(diffLine(diffRevisions(before, before, () => [1, 1]))).toBe("no change");
  });
});
