/** Pure helpers of the models page: what a retraining run's progress and a model's metrics say. */

export interface RetrainJob {
  id: number;
  task: string;
  trigger: string;
  status: string;
  progress: Record<string, unknown>;
  error: string;
  base: number | null;
  candidate: number | null;
  created_at: string;
  finished_at: string | null;
}

export interface ModelVersion {
  id: number;
  task: string;
  name: string;
  status: string;
  metrics: Record<string, Record<string, unknown> | undefined>;
  weights?: { precision: string; size_bytes: number; kept_float: string };
  created_at: string;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** The mean of a `{mean, sd, n}` metric, or a bare number. */
export function metricMean(metrics: Record<string, unknown> | undefined, key: string): number | null {
  const found = metrics?.[key];
  if (found && typeof found === "object") return num((found as Record<string, unknown>).mean);
  return num(found);
}

export function percent(value: number | null, digits = 1): string {
  return value === null ? "—" : `${(100 * value).toFixed(digits)} %`;
}

export function millimetres(value: number | null, digits = 2): string {
  return value === null ? "—" : `${value.toFixed(digits)} mm`;
}

/** The weights' precision and file size ("int8 · 1.2 MB"); a float file kept where int8 was
 * asked for says so. */
export function weightsText(version: ModelVersion): string {
  const w = version.weights;
  if (!w) return "—";
  const size = `${(w.size_bytes / 1024 ** 2).toFixed(1)} MB`;
  const kept = w.kept_float ? " (int8 not kept)" : "";
  return `${w.precision}${kept} · ${size}`;
}

/** One line on a run: its stage, epoch and step, loss, and the tune metrics of the last epoch. */
export function progressLine(job: RetrainJob): string {
  const p = job.progress;
  const parts: string[] = [];
  if (typeof p.stage === "string") parts.push(p.stage);
  const epoch = num(p.epoch);
  const epochs = num(p.epochs);
  if (epoch !== null && epochs !== null) parts.push(`epoch ${epoch}/${epochs}`);
  const step = num(p.step);
  const steps = num(p.steps);
  if (step !== null && steps !== null) parts.push(`step ${step}/${steps}`);
  const loss = num(p.loss);
  if (loss !== null) parts.push(`loss ${loss.toFixed(4)}`);
  const tune = p.tune as Record<string, unknown> | undefined;
  const dice = metricMean(tune, "cord_dice");
  if (dice !== null) parts.push(`tune cord Dice ${percent(dice)}`);
  const mre = metricMean(tune, "keypoint_mre_mm");
  if (mre !== null) parts.push(`tune corner error ${millimetres(mre)}`);
  const seconds = num(p.epoch_seconds);
  if (seconds !== null) parts.push(`${seconds.toFixed(0)} s per epoch`);
  if (job.error) parts.push(job.error);
  return parts.join(" · ");
}

/** Replace or add a run in a list kept newest first. */
export function upsertJob(jobs: RetrainJob[], job: RetrainJob): RetrainJob[] {
  const rest = jobs.filter((j) => j.id !== job.id);
  return [job, ...rest].sort((a, b) => b.id - a.id);
}

/** What promoting or activating a version will do, for the confirmation. */
export function activationQuestion(version: ModelVersion, active: ModelVersion | undefined): string {
  const what = version.status === "candidate" ? "Promote" : "Make active again (roll back to)";
  const replaced = active ? ` It replaces #${active.id} ${active.name}, which is retired and can be restored.` : "";
  return `${what} ${version.task} model #${version.id} ${version.name}? The next pre-label jobs use it.${replaced}`;
}

/** The active model that drafted a retrained candidate's tune gold (its pre-labels were what the
 * readers corrected), or null when nothing on the tune split came from its pre-labels. */
export function draftedBy(version: ModelVersion): number | null {
  const drafted = version.metrics.tune_drafted_by_base;
  const cases = num(drafted?.cases);
  return cases !== null && cases > 0 && num(drafted?.of) !== null ? num(drafted?.model) : null;
}

/** For a candidate `draftedBy` a model: a warning that the comparison favours that model, with
 * both scores; else null. */
export function draftedCaveat(version: ModelVersion): string | null {
  const model = draftedBy(version);
  if (model === null) return null;
  const drafted = version.metrics.tune_drafted_by_base;
  const base = percent(metricMean(version.metrics.base_tune, "cord_dice"));
  const own = percent(metricMean(version.metrics.tune, "cord_dice"));
  return (
    `${String(drafted?.cases)} of ${String(drafted?.of)} tune cases were corrected from ` +
    `#${model}'s pre-labels, so the tune gold favours #${model} (cord Dice ${base} on it, ` +
    `this candidate ${own}); judge the candidate on gold read without pre-labels too.`
  );
}
