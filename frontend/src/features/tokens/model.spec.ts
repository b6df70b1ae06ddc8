import { describe, expect, it } from "vitest";
import { createBody, lastUsedText, scopeText, type ApiToken } from "./model";

const token: ApiToken = {
  id: 1,
  name: "nightly export",
  prefix: "sl_abcdefgh",
  projects: [],
  created_at: "2026-12-01T10:00:00+00:00",
  last_used_at: null,
};

describe("tokens model", () => {
  it("says never for an unused token and the time for a used one", () => {
    expect(lastUsedText(token)).toBe("never");
    expect(lastUsedText({ ...token, last_used_at: "2026-12-02T08:30:00+00:00" }, "en-GB")).toContain("2026");
  });

  it("names the projects a token is limited to", () => {
    const projects = [
      { slug: "cervical", name: "Cervical study" },
      { slug: "lumbar", name: "Lumbar study" },
    ];
    expect(scopeText(token, projects)).toBe("all my projects");
    expect(scopeText({ ...token, projects: ["lumbar", "gone"] }, projects)).toBe("Lumbar study, gone");
  });

  it("refuses an empty or long name and sorts the picked projects once", () => {
    expect(createBody("  ", [])).toMatch(/name/);
    expect(createBody("x".repeat(101), [])).toMatch(/100/);
    expect(createBody(" ci ", ["b", "a", "b"])).toEqual({ name: "ci", projects: ["a", "b"] });
  });
});
