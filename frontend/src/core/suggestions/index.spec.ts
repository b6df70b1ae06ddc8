import { describe, expect, it } from "vitest";
import type { Shape } from "../../contract/types";
import { openOn, parseSuggestions, pickSuggestion, suggestionShape, withheldText } from "./index";

const item = (label: string, image: number, x: number, y: number, extra: Record<string, unknown> = {}) => ({
  image,
  label,
  shape_type: "point",
  points: [[x, y]],
  confidence: 0.42,
  raw_confidence: 0.8,
  threshold: 0.6,
  reason: "confidence 0.42 below 0.60",
  ...extra,
});

const shape = (label: string): Shape => ({
  label,
  points: [[0, 0]],
  group_id: null,
  description: "",
  shape_type: "point",
  flags: {},
});

describe("suggestions", () => {
  it("parses the reply and drops malformed items", () => {
    const parsed = parseSuggestions({
      items: [
        item("C5_AI", 3, 10, 20),
        item("bad", 3, 1, 1, { points: [] }),
        { label: 1 },
        item("x", 3, 1, 1, { shape_type: "line" }),
      ],
    });
    expect(parsed.map((s) => s.label)).toEqual(["C5_AI"]);
    expect(parsed[0]?.points).toEqual([[10, 20]]);
    expect(parseSuggestions(null)).toEqual([]);
    expect(parseSuggestions({ items: "no" })).toEqual([]);
  });

  it("keeps open only the suggestions of the image whose label the read lacks", () => {
    const items = parseSuggestions({
      items: [item("C5_AI", 3, 10, 20), item("C5_AS", 3, 30, 20), item("C4_AI", 4, 1, 1)],
    });
    expect(openOn(items, 3, [shape("C5_AI")]).map((s) => s.label)).toEqual(["C5_AS"]);
    expect(openOn(items, 4, []).map((s) => s.label)).toEqual(["C4_AI"]);
    expect(openOn(items, null, [])).toEqual([]);
  });

  it("picks the one nearest the pointer, else the first", () => {
    const items = parseSuggestions({ items: [item("A", 3, 10, 20), item("B", 3, 30, 20)] });
    expect(pickSuggestion(items, [28, 21])?.label).toBe("B");
    expect(pickSuggestion(items, [11, 19])?.label).toBe("A");
    expect(pickSuggestion(items, null)?.label).toBe("A");
    expect(pickSuggestion([], [0, 0])).toBeNull();
  });

  it("becomes a plain labelme shape and says why it was withheld", () => {
    const [s] = parseSuggestions({ items: [item("C5_AI", 3, 10, 20)] });
    if (!s) throw new Error("no suggestion");
    expect(suggestionShape(s)).toEqual({
      label: "C5_AI",
      points: [[10, 20]],
      group_id: null,
      description: "",
      shape_type: "point",
      flags: {},
      mask: null,
    });
    expect(withheldText(s)).toBe("C5_AI withheld: confidence 0.42 below 0.60");
  });
});
