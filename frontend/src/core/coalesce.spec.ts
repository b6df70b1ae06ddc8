import { describe, expect, it } from "vitest";
import { coalesced } from "./coalesce";

describe("coalesced", () => {
  it("runs a burst of calls as the running load plus exactly one more", async () => {
    const gates: (() => void)[] = [];
    let loads = 0;
    const reload = coalesced(() => {
      loads += 1;
      return new Promise<void>((resolve) => gates.push(resolve));
    });
    const first = reload();
    void reload();
    void reload();
    expect(loads).toBe(1);
    gates[0]();
    await first;
    await Promise.resolve();
    expect(loads).toBe(2);
    gates[1]();
    await Promise.resolve();
    await Promise.resolve();
    expect(loads).toBe(2);
  });
});
