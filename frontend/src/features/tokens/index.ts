/** Profile page: my personal API tokens — list, create (the secret shown once), revoke. */

import { ApiError, deleteJSON, getJSON, postJSON } from "../../api/client";
import { clear, el, toast } from "../ui";
import type { ApiToken, CreatedToken, ProjectChoice } from "./model";
import { createBody, lastUsedText, scopeText } from "./model";

export { createBody, lastUsedText, scopeText } from "./model";
export type { ApiToken, CreatedToken, ProjectChoice } from "./model";

const URL_TOKENS = "/api/me/tokens";

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class TokenManager {
  private readonly list = el("tbody", { "data-testid": "token-rows" });
  private readonly reveal = el("div", { class: "token-reveal", "data-testid": "token-reveal" });
  private readonly nameInput = el("input", {
    type: "text",
    maxlength: "100",
    placeholder: "e.g. nightly export script",
    "data-testid": "token-name",
    "aria-label": "Token name",
  });
  private readonly picks: HTMLInputElement[] = [];

  constructor(
    private readonly root: HTMLElement,
    private readonly projects: ProjectChoice[],
  ) {}

  mount(): void {
    const create = el("button", { type: "submit", "data-testid": "token-create" }, "Create token");
    const choices = el(
      "fieldset",
      { class: "token-projects" },
      el("legend", {}, "Limit to projects (none ticked: all my projects)"),
      ...this.projects.map((p) => {
        const box = el("input", { type: "checkbox", value: p.slug, "data-testid": `token-project-${p.slug}` });
        this.picks.push(box);
        return el("label", {}, box, ` ${p.name}`);
      }),
    );
    const form = el("form", { class: "token-form" }, el("label", {}, "Name ", this.nameInput), choices, create);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.create(create);
    });
    const table = el(
      "table",
      { class: "token-table" },
      el(
        "thead",
        {},
        el("tr", {}, ...["Name", "Token", "Projects", "Created", "Last used", ""].map((h) => el("th", {}, h))),
      ),
      this.list,
    );
    clear(this.root);
    this.root.append(form, this.reveal, table);
    void this.refresh();
  }

  private async refresh(): Promise<void> {
    try {
      this.render(await getJSON<ApiToken[]>(URL_TOKENS));
    } catch (e) {
      toast(`Tokens could not be loaded: ${message(e)}`, "error");
    }
  }

  private render(tokens: ApiToken[]): void {
    clear(this.list);
    if (tokens.length === 0) {
      this.list.append(el("tr", {}, el("td", { colspan: "6", class: "muted" }, "No token yet.")));
      return;
    }
    for (const t of tokens) {
      const revoke = el("button", { type: "button", class: "link danger", "data-testid": "token-revoke" }, "Revoke");
      revoke.addEventListener("click", () => void this.revoke(t, revoke));
      this.list.append(
        el(
          "tr",
          { "data-testid": "token-row", "data-token-id": String(t.id) },
          el("td", {}, t.name),
          el("td", {}, el("code", {}, `${t.prefix}…`)),
          el("td", {}, scopeText(t, this.projects)),
          el("td", {}, new Date(t.created_at).toLocaleString()),
          el("td", { "data-testid": "token-last-used" }, lastUsedText(t)),
          el("td", {}, revoke),
        ),
      );
    }
  }

  private async create(button: HTMLButtonElement): Promise<void> {
    const body = createBody(
      this.nameInput.value,
      this.picks.filter((p) => p.checked).map((p) => p.value),
    );
    if (typeof body === "string") {
      toast(body, "warn");
      return;
    }
    button.disabled = true;
    try {
      const created = await postJSON<CreatedToken>(URL_TOKENS, body);
      this.showOnce(created);
      this.nameInput.value = "";
      for (const p of this.picks) p.checked = false;
      await this.refresh();
    } catch (e) {
      toast(`The token was not created: ${message(e)}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  private showOnce(created: CreatedToken): void {
    clear(this.reveal);
    const secret = el("code", { class: "token-secret", "data-testid": "new-token" }, created.token);
    const copy = el("button", { type: "button", "data-testid": "token-copy" }, "Copy");
    copy.addEventListener("click", () => {
      navigator.clipboard.writeText(created.token).then(
        () => toast("Copied."),
        () => toast("Select the token and copy it by hand.", "warn"),
      );
    });
    const hide = el("button", { type: "button", class: "link" }, "I have stored it");
    hide.addEventListener("click", () => clear(this.reveal));
    this.reveal.append(
      el("p", {}, `Token "${created.name}": copy it now, it is not shown again.`),
      el("p", {}, secret, " ", copy, " ", hide),
    );
  }

  private async revoke(token: ApiToken, button: HTMLButtonElement): Promise<void> {
    if (!window.confirm(`Revoke the token "${token.name}"? Scripts using it stop working.`)) return;
    button.disabled = true;
    try {
      await deleteJSON(`${URL_TOKENS}/${token.id}`);
      toast(`Token "${token.name}" revoked.`);
    } catch (e) {
      // Revoked elsewhere already (404): the refresh below shows the truth.
      if (!(e instanceof ApiError && e.status === 404)) toast(`Not revoked: ${message(e)}`, "error");
    }
    await this.refresh();
  }
}

export function mountTokens(root: HTMLElement, projects: ProjectChoice[]): void {
  new TokenManager(root, projects).mount();
}
