/** The models page (active learning): how cases are selected, retraining runs with live progress,
 * the registered versions with promote and rollback, and what the model gets wrong. */
import { getJSON, postJSON, putJSON } from "../../api/client";
import { LiveSocket, RECONNECTED, type LiveEvent } from "../../api/live";
import { clear, el, toast } from "../ui";
import {
  activationQuestion,
  draftedBy,
  draftedCaveat,
  metricMean,
  millimetres,
  percent,
  progressLine,
  upsertJob,
  weightsText,
  type ModelVersion,
  type RetrainJob,
} from "./model";

interface Strategy {
  strategy: string;
  choices: { value: string; title: string }[];
  scored_cases: number;
  computed_at: string | null;
}

interface CorrectionRow {
  case: number;
  pseudonym: string;
  kind: string;
  magnitude: number | null;
  areas: Record<string, { dice: number | null; hd95_mm: number | null }>;
  keypoints: Record<string, number | null>;
}

interface Corrections {
  n: number;
  worst: CorrectionRow[];
  by_structure: Record<string, { n: number; mean_dice: number | null; mean_hd95_mm: number | null }>;
  by_corner: Record<string, { n: number; mean_mm: number | null; max_mm: number }>;
}

export interface ModelsPage {
  slug: string;
  canManage: boolean;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function table(head: string[], rows: (string | Node)[][], testid: string): HTMLTableElement {
  return el(
    "table",
    { class: "models-table", "data-testid": testid },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c))))),
  );
}

export function mountModelsPage(root: HTMLElement, page: ModelsPage): void {
  const base = `/api/projects/${page.slug}`;
  const strategyBox = el("section", { class: "models-panel", "data-testid": "strategy" });
  const retrainBox = el("section", { class: "models-panel", "data-testid": "retrain" });
  const versionsBox = el("section", { class: "models-panel", "data-testid": "versions" });
  const wrongBox = el("section", { class: "models-panel", "data-testid": "corrections" });
  root.append(strategyBox, retrainBox, versionsBox, wrongBox);
  let jobs: RetrainJob[] = [];

  async function loadStrategy(): Promise<void> {
    const state = await getJSON<Strategy>(`${base}/strategy`);
    const select = el("select", { "aria-label": "Case selection strategy", disabled: !page.canManage });
    for (const choice of state.choices) {
      const option = el("option", { value: choice.value }, choice.title);
      option.selected = choice.value === state.strategy;
      select.append(option);
    }
    const save = el("button", { type: "button", disabled: !page.canManage }, "Save");
    save.addEventListener("click", () => {
      putJSON<Strategy>(`${base}/strategy`, { strategy: select.value })
        .then(() => {
          toast("Strategy saved: the cases are scored in the background");
          return loadStrategy();
        })
        .catch((e: unknown) => toast(message(e), "error"));
    });
    const scored =
      state.strategy === "first"
        ? "Next case offers cases in import order."
        : `${state.scored_cases} cases scored${state.computed_at ? `, last at ${new Date(state.computed_at).toLocaleString()}` : " (scoring in the background)"}.`;
    clear(strategyBox);
    strategyBox.append(
      el("h2", {}, "Case selection"),
      el("p", { class: "muted" }, "How “Next case” orders the cases it offers annotators, within the study design."),
      el("div", { class: "models-row" }, select, save),
      el("p", { "data-testid": "strategy-state" }, scored),
    );
  }

  function renderJobs(): void {
    const buttons = ["sagittal", "axial"].map((task) => {
      const button = el("button", { type: "button", disabled: !page.canManage }, `Retrain ${task}`);
      button.addEventListener("click", () => {
        // The reply wraps the run ({job}), as the 409 for a run already going does.
        postJSON<{ job: RetrainJob }>(`${base}/retrain`, { task })
          .then(({ job }) => {
            jobs = upsertJob(jobs, job);
            renderJobs();
          })
          .catch((e: unknown) => toast(message(e), "error", 8000));
      });
      return button;
    });
    const rows = jobs.map((job) => [
      `#${job.id}`,
      job.task,
      job.trigger,
      el("span", { class: `status status-${job.status}`, "data-testid": `job-${job.id}-status` }, job.status),
      el("span", { "data-testid": `job-${job.id}-progress` }, progressLine(job)),
      job.candidate === null ? "—" : `#${job.candidate}`,
    ]);
    clear(retrainBox);
    retrainBox.append(
      el("h2", {}, "Retraining"),
      el(
        "p",
        { class: "muted" },
        "Fine-tunes the active model on the train split's gold, evaluates on the tune split's gold (never trained on) and registers a candidate.",
      ),
      el("div", { class: "models-row" }, ...buttons),
      jobs.length
        ? table(["Run", "Task", "Trigger", "Status", "Progress", "Candidate"], rows, "retrain-jobs")
        : el("p", { class: "empty" }, "No retraining run yet."),
    );
  }

  async function loadJobs(): Promise<void> {
    jobs = await getJSON<RetrainJob[]>(`${base}/retrain/jobs`);
    renderJobs();
  }

  function diceCell(version: ModelVersion, tune: Record<string, unknown> | undefined): Node {
    const cell = el("span", {}, percent(metricMean(tune, "cord_dice")));
    const model = draftedBy(version);
    const caveat = draftedCaveat(version);
    if (model !== null && caveat !== null) {
      cell.append(
        " ",
        el(
          "span",
          { class: "caveat", title: caveat, "data-testid": `model-${version.id}-drafted` },
          `⚠ tune gold drafted by #${model}`,
        ),
      );
    }
    return cell;
  }

  async function loadVersions(): Promise<void> {
    const versions = await getJSON<ModelVersion[]>(`${base}/models`);
    const rows = versions.map((version) => {
      const active = versions.find((v) => v.task === version.task && v.status === "active");
      const tune = version.metrics.tune ?? version.metrics.held_out;
      const actions: Node[] = [];
      if (page.canManage && version.status !== "active") {
        const verb = version.status === "candidate" ? "promote" : "activate";
        const button = el(
          "button",
          { type: "button", "data-testid": `model-${version.id}-${verb}` },
          verb === "promote" ? "Promote" : "Roll back to",
        );
        button.addEventListener("click", () => {
          if (!window.confirm(activationQuestion(version, active))) return;
          postJSON<ModelVersion>(`${base}/models/${version.id}/${verb}`, {})
            .then(() => {
              toast(`Model #${version.id} is active`);
              return loadVersions();
            })
            .catch((e: unknown) => toast(message(e), "error", 8000));
        });
        actions.push(button);
      }
      return [
        `#${version.id}`,
        version.task,
        version.name,
        el(
          "span",
          { class: `status status-${version.status}`, "data-testid": `model-${version.id}-status` },
          version.status,
        ),
        diceCell(version, tune),
        millimetres(metricMean(tune, "keypoint_mre_mm")),
        el(
          "span",
          { title: version.weights?.kept_float ?? "", "data-testid": `model-${version.id}-weights` },
          weightsText(version),
        ),
        new Date(version.created_at).toLocaleString(),
        el("span", {}, ...actions),
      ];
    });
    clear(versionsBox);
    versionsBox.append(
      el("h2", {}, "Model versions"),
      table(
        [
          "Version",
          "Task",
          "Name",
          "Status",
          "Cord Dice (tune / held out)",
          "Corner error (tune / held out)",
          "Weights",
          "Registered",
          "",
        ],
        rows,
        "model-versions",
      ),
    );
  }

  async function loadCorrections(): Promise<void> {
    const found = await getJSON<Corrections>(`${base}/corrections`);
    clear(wrongBox);
    wrongBox.append(el("h2", {}, "What the model gets wrong"));
    if (!found.n) {
      wrongBox.append(
        el(
          "p",
          { class: "empty" },
          "No corrections yet: they are recorded when a read is submitted or a gold read signed on a pre-labelled case.",
        ),
      );
      return;
    }
    const structures = Object.entries(found.by_structure).map(([name, s]) => [
      name,
      String(s.n),
      percent(s.mean_dice),
      millimetres(s.mean_hd95_mm),
    ]);
    const corners = Object.entries(found.by_corner)
      .sort((a, b) => (b[1].mean_mm ?? 0) - (a[1].mean_mm ?? 0))
      .map(([name, c]) => [name, String(c.n), millimetres(c.mean_mm), millimetres(c.max_mm)]);
    const worst = found.worst.map((row) => [
      el("a", { href: `/cases/${row.case}/` }, row.pseudonym),
      row.kind,
      percent(row.magnitude),
      Object.entries(row.areas)
        .map(([name, a]) => `${name} ${percent(a.dice)}`)
        .join(", "),
    ]);
    wrongBox.append(
      el("p", { class: "muted" }, `${found.n} corrections of pre-labels.`),
      table(["Structure", "n", "Mean Dice with the person", "Mean HD95"], structures, "corrections-structures"),
      table(["Corner", "n", "Mean displacement", "Largest"], corners, "corrections-corners"),
      table(["Case", "By", "Correction (1 − Dice)", "Dice per structure"], worst, "corrections-worst"),
    );
  }

  const fail = (e: unknown): void => toast(message(e), "error");
  const canSeeCorrections = root.dataset.corrections === "true";
  function loadAll(): void {
    void loadStrategy().catch(fail);
    void loadJobs().catch(fail);
    void loadVersions().catch(fail);
    if (canSeeCorrections) void loadCorrections().catch(fail);
  }
  loadAll();

  new LiveSocket(`/ws/projects/${page.slug}/`, (event: LiveEvent) => {
    if (event.type === RECONNECTED) loadAll();
    else if (event.type === "retrain.progress") {
      jobs = upsertJob(jobs, event.job as RetrainJob);
      renderJobs();
      if ((event.job as RetrainJob).candidate !== null) void loadVersions().catch(fail);
    } else if (event.type === "correction.recorded" && canSeeCorrections) void loadCorrections().catch(fail);
  });
}
