/** Tiny DOM helpers (no framework): element creation with attributes and children. */

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    // Inline style through the CSSOM: the Content-Security-Policy refuses style attributes.
    if (k === "style" && typeof v === "string") e.style.cssText = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c);
  }
  return e;
}

export function clear(node: Element): void {
  while (node.firstChild) node.firstChild.remove();
}

/** A short message in the toast area (bottom centre). */
export function toast(text: string, kind: "info" | "error" | "warn" = "info", ms = 3500): void {
  let host = document.querySelector<HTMLElement>(".toasts");
  if (!host) {
    host = el("div", { class: "toasts", "data-testid": "toasts" });
    document.body.append(host);
  }
  const t = el("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  host.append(t);
  setTimeout(() => t.remove(), ms);
}

export function downloadText(name: string, text: string, type = "application/json"): void {
  const a = el("a", { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

/** A collapsible side panel section: a title (click folds it), a count and a body. */
export function section(
  title: string,
  testid: string,
  ...children: (Node | string)[]
): { root: HTMLElement; body: HTMLElement; count: HTMLElement } {
  const count = el("span", { class: "count" });
  const body = el("div", { class: "body" }, ...children);
  const h = el("h3", {}, title, count);
  const root = el("section", { class: "section", "data-testid": testid }, h, body);
  h.addEventListener("click", () => root.classList.toggle("collapsed"));
  return { root, body, count };
}
