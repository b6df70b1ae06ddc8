/** How a revision's or read's author is named in the reads UI. */

import type { UserRef } from "../../contract/types";

export function authorName(a: UserRef | string | number | null | undefined): string {
  if (a === null || a === undefined) return "model";
  if (typeof a === "string") return a;
  if (typeof a === "number") return `user ${a}`;
  return a.username ?? `user ${a.id}`;
}
