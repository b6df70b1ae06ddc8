import { describe, expect, it } from "vitest";
import type { Shape, Template } from "../../contract/types";
import template from "../../contract/fixtures/template.json";
import valid from "../../contract/fixtures/valid_shapes.json";
import invalid from "../../contract/fixtures/invalid_shapes.json";
import { validateImageShapes } from "./index";

interface FixtureCase {
  name: string;
  view: string;
  image: { rows: number; columns: number };
  shapes: unknown[];
  errors?: { index: number; code: string }[];
}

const tpl = template as unknown as Template;
const run = (c: FixtureCase) => validateImageShapes(c.shapes as Shape[], tpl, c.image);

describe("shared contract fixtures", () => {
  it.each((valid.cases as FixtureCase[]).map((c) => [c.name, c] as const))("accepts: %s", (_, c) => {
    expect(run(c)).toEqual([]);
  });

  it.each((invalid.cases as FixtureCase[]).map((c) => [c.name, c] as const))("rejects: %s", (_, c) => {
    const got = run(c).map((e) => ({ index: e.index, code: e.code }));
    expect(got).toEqual(c.errors);
  });

  it("names the problem in each message", () => {
    const issues = run((invalid.cases as FixtureCase[])[0]);
    expect(issues[0]?.message).toMatch(/tumour/);
  });
});
