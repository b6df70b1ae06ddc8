import { describe, expect, it } from "vitest";
import { nextPage } from "./client";

describe("nextPage", () => {
  it("reads the next page of a Link header and ends on the last page", () => {
    const link =
      '<http://x/api/cases/1/comments?limit=2&offset=4>; rel="next", <http://x/api/cases/1/comments?limit=2&offset=0>; rel="prev"';
    expect(nextPage(link)).toBe("http://x/api/cases/1/comments?limit=2&offset=4");
    expect(nextPage('<http://x/a?offset=0>; rel="prev"')).toBeNull();
    expect(nextPage(null)).toBeNull();
  });
});
