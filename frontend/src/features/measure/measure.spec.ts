import { describe, expect, it } from "vitest";
import { findValue } from "./index";

describe("measurement panel values", () => {
  it("shows MSCC and MCC as percentages, not as fractions with a % sign", () => {
    const values = { mscc: 0.35, mscc_percent: 35, mcc: 0.3, ta: 49.0 };
    expect(findValue(values, "mscc", "%")).toBe(35);
    expect(findValue(values, "mcc", "%")).toBeCloseTo(30);
    expect(findValue(values, "ta", "mm²")).toBe(49.0);
    expect(findValue({ MSCC: 0.2 }, "mscc", "")).toBe(0.2);
    expect(findValue({}, "mscc", "%")).toBeUndefined();
  });
});
