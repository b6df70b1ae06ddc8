import { describe, expect, it } from "vitest";
import { relativeTime } from "../reads";
import { nextRow } from "./rows";

describe("case list keyboard moves", () => {
  it("starts at the first row going down and the last going up", () => {
    expect(nextRow(-1, 1, 5)).toBe(0);
    expect(nextRow(-1, -1, 5)).toBe(4);
  });
  it("moves one row and stops at either end", () => {
    expect(nextRow(2, 1, 5)).toBe(3);
    expect(nextRow(2, -1, 5)).toBe(1);
    expect(nextRow(4, 1, 5)).toBe(4);
    expect(nextRow(0, -1, 5)).toBe(0);
  });
  it("has no row to go to in an empty list", () => {
    expect(nextRow(-1, 1, 0)).toBe(-1);
  });
});

describe("case list times", () => {
  const now = Date.parse("2026-01-10T12:00:00Z");
  it("reads relative", () => {
    expect(relativeTime("2026-01-10T11:59:50Z", now)).toBe("just now");
    expect(relativeTime("2026-01-10T09:00:00Z", now)).toBe("3 h ago");
    expect(relativeTime("2026-01-08T12:00:00Z", now)).toBe("2 d ago");
  });
});
