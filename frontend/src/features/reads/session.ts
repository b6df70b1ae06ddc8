/** The open read: loading, autosave with drafts, conflicts (both versions shown), revisions and restore, live updates. */

import type { LiveEvent } from "../../api/live";
import { DENIED, LiveSocket, RECONNECTED } from "../../api/live";
import type {
  CaseFields,
  ReadInfo,
  Revision,
  RevisionSummary,
  ShapeError,
  ShapesByImage,
  UserRef,
} from "../../contract/types";
import type { SaveState } from "../../core/offline";
import { Autosave, DraftStore } from "../../core/offline";
import { clear, el, toast } from "../ui";
import { getRead, getRevision, listReads, listRevisions, myRead, restoreRevision, saveRevision } from "./api";
import { authorName } from "./author";
import { renderHistoryRows, revisionShapes } from "./historyRows";
import { showConflictDialog } from "./conflict";
import { openDraftStorage } from "./storage";

/** The document the read is edited in (the annotator's store): what a session loads, saves and guards. */
export interface ReadDocument {
  /** False while the open read may only be viewed. */
  editable: boolean;
  readonly doc: { shapes: ShapesByImage; case_fields: CaseFields };
  /** Replace the whole document (a loaded revision or draft). */
  load(doc: { shapes: ShapesByImage; case_fields: CaseFields }): void;
}

const STATE_TEXT: Record<SaveState, string> = {
  saved: "All changes saved",
  pending: "Unsaved changes",
  saving: "Saving…",
  offline: "Offline — kept in this browser, retrying",
  conflict: "Conflict — choose a version",
  invalid: "Not saved — fix the marked shapes",
};

export class ReadSession {
  reads: ReadInfo[] = [];
  read: ReadInfo | null = null;
  autosave: Autosave | null = null;
  serverErrors: ShapeError[] = [];
  readonly statusPill = el("span", { class: "pill", "data-testid": "save-status", "data-state": "saved" }, "—");
  readonly livePill = el(
    "span",
    { class: "pill", "data-testid": "live-status", "data-live": "off", title: "Live updates" },
    "live",
  );
  readonly readSelect = el("select", { "data-testid": "read-select", title: "Read shown" });
  readonly revisionBody = el("div", { "data-testid": "revision-list" });
  readonly startButton = el("button", { class: "primary", "data-testid": "start-read", hidden: "" }, "Start my read");
  /** Whether this page offers "Start my read" (not to reviewers and leads: they edit the gold read). */
  mayStart = true;
  private drafts: DraftStore | null = null;
  private live: LiveSocket | null = null;
  onLoaded: () => void = () => {};
  username = "";
  /** Pixel spacing (mm, [rows, columns]) of an image of the case: the history's diffs in mm. */
  spacingOf: (image: string) => readonly [number, number] | null = () => null;
  private readonly shapesOfRevision = revisionShapes(getRevision);
  private readonly ownRevisions = new Set<number>();
  onErrors: () => void = () => {};

  constructor(
    private readonly caseId: number,
    private readonly store: ReadDocument,
    private readonly role: string,
  ) {
    this.readSelect.addEventListener("change", () => void this.open(Number(this.readSelect.value)));
    this.startButton.addEventListener("click", () => void this.startMine());
    window.addEventListener("beforeunload", (e) => {
      if (this.autosave?.dirty) {
        void this.autosave.flush();
        e.preventDefault();
      }
    });
    // Back online: save the kept edits now rather than at the end of the retry backoff (up to 30 s).
    window.addEventListener("online", () => this.retryOffline());
  }

  private retryOffline(): void {
    if (this.autosave?.state === "offline") void this.autosave.flush();
  }

  async start(): Promise<void> {
    this.drafts = new DraftStore(await openDraftStorage());
    // `?read=<id>` opens that read (the review page's "Edit gold"); otherwise the user's own, if
    // any. Opening a case creates no read: "Start my read" does (startMine).
    const wanted = Number(new URLSearchParams(location.search).get("read")) || null;
    this.reads = await listReads(this.caseId);
    const mine = this.mine();
    const first =
      this.reads.find((r) => r.id === wanted) ??
      mine ??
      this.reads.find((r) => r.kind === "model" && r.head) ??
      this.reads.find((r) => r.editable) ??
      this.reads[0] ??
      null;
    this.fillReadSelect();
    this.showStart();
    if (first) await this.open(first.id);
    else this.setState("saved", "No read to show");
    this.live = new LiveSocket(
      this.caseId,
      (e) => void this.onLive(e),
      (on) => {
        this.livePill.dataset.live = on ? "on" : "off";
        this.livePill.title = on ? "Live updates connected" : "Live updates reconnecting";
      },
    );
  }

  /** The user's own human read, if they started one. */
  private mine(): ReadInfo | null {
    return this.reads.find((r) => r.kind === "human" && r.author?.username === this.username) ?? null;
  }

  /** "Start my read" is offered while the user may start one and has none. */
  private showStart(): void {
    const b = this.startButton;
    b.hidden = !this.mayStart || this.mine() !== null;
    const seed = this.reads.find((r) => r.kind === "model" && r.head);
    // A role the study design keeps unaided sees no model read: its read starts blank.
    b.title = seed
      ? `Create your read of this case, starting from ${seed.name || "the model's pre-label"}`
      : "Create your read of this case (blank)";
    b.dataset.from = seed ? "model" : "blank";
  }

  /** Create the user's read (seeded from the model's pre-label unless the design says unaided) and open it. */
  async startMine(): Promise<void> {
    this.startButton.disabled = true;
    try {
      const read = await myRead(this.caseId);
      this.reads = await listReads(this.caseId);
      this.fillReadSelect();
      this.showStart();
      await this.open(read.id);
      toast(read.revision_count ? "Your read starts from the model's pre-label" : "Your read starts blank", "info");
    } catch (e) {
      toast(`Could not start your read: ${e instanceof Error ? e.message : String(e)}`, "error", 8000);
    } finally {
      this.startButton.disabled = false;
    }
  }

  private fillReadSelect(): void {
    clear(this.readSelect);
    for (const r of this.reads) {
      const who = r.kind === "human" ? authorName(r.author) : r.kind;
      this.readSelect.append(
        el(
          "option",
          { value: String(r.id) },
          `${r.name || who} · ${r.kind}${r.editable ? "" : " (view)"} · ${r.revision_count} rev`,
        ),
      );
    }
    if (this.read) this.readSelect.value = String(this.read.id);
  }

  private setState(state: SaveState, text?: string): void {
    this.statusPill.dataset.state = state;
    this.statusPill.textContent = text ?? STATE_TEXT[state];
  }

  async open(readId: number): Promise<void> {
    if (this.autosave?.dirty) await this.autosave.flush();
    // Nothing drawn while a read loads would survive its load: refuse edits until it is shown.
    this.store.editable = false;
    delete this.statusPill.dataset.read;
    const read = await getRead(readId);
    this.read = read;
    this.readSelect.value = String(read.id);
    const head = read.revision ?? null;
    this.store.editable = read.editable;
    this.store.load({ shapes: head?.shapes ?? {}, case_fields: head?.case_fields ?? {} });
    this.serverErrors = [];
    const drafts = this.drafts as DraftStore;
    this.autosave = new Autosave({
      readId: read.id,
      parent: head?.id ?? null,
      drafts,
      save: (p) => saveRevision(read.id, p),
      scheduler: {
        set: (fn, ms) => window.setTimeout(fn, ms),
        clear: (h) => window.clearTimeout(h),
        now: () => Date.now(),
      },
      // Short: a drag saves once on release (not while it moves), so edits coalesce anyway.
      delayMs: 250,
      onChange: (s, a) => this.onSaveState(s, a),
    });
    this.setState("saved", head ? `Saved · rev ${head.number}` : "No revision yet");
    this.onLoaded();
    void this.refreshRevisions();
    // Edits that never reached the server (reload, network loss) come back from the browser.
    const draft = await drafts.get(read.id);
    if (draft && read.editable) {
      this.store.load({ shapes: draft.shapes, case_fields: draft.case_fields });
      this.onLoaded();
      if (draft.parent === (head?.id ?? null)) {
        toast("Restored unsaved edits kept in this browser", "info");
        await this.autosave.edit(draft.shapes, draft.case_fields);
      } else if (head) {
        // The server moved on since the draft was made: show both, save nothing silently.
        this.autosave.parent = draft.parent;
        await this.autosave.edit(draft.shapes, draft.case_fields);
        this.autosave.conflictHead = head;
        this.autosave.state = "conflict";
        this.onSaveState("conflict", this.autosave);
      }
    }
    // The read shown is loaded (drafts included): what the page and its tests wait on.
    this.statusPill.dataset.read = String(read.id);
  }

  /** Called by the annotator after each committed edit. */
  edited(): void {
    if (!this.autosave || !this.read?.editable) return;
    void this.autosave.edit(this.store.doc.shapes, this.store.doc.case_fields);
  }

  saveNow(): void {
    void this.autosave?.flush();
  }

  private onSaveState(state: SaveState, a: Autosave): void {
    this.setState(state);
    if (a.parent !== null) this.ownRevisions.add(a.parent);
    if (state === "saved") {
      this.serverErrors = [];
      this.onErrors();
      void this.refreshRevisions();
    } else if (state === "invalid" && a.lastError?.kind === "invalid") {
      this.serverErrors = a.lastError.errors;
      this.setState("invalid", `Not saved: ${a.lastError.detail}`);
      this.onErrors();
    } else if (state === "conflict" && a.conflictHead) {
      this.showConflict(a.conflictHead);
    }
  }

  private showConflict(head: Revision): void {
    showConflictDialog({
      mine: this.store.doc,
      head,
      keepMine: () => void this.autosave?.keepMine(),
      takeTheirs: () =>
        void this.autosave?.takeTheirs(head).then(() => {
          this.store.load({ shapes: head.shapes, case_fields: head.case_fields });
          this.setState("saved", `Saved · rev ${head.number}`);
          this.onLoaded();
          void this.refreshRevisions();
        }),
    });
  }

  async refreshRevisions(): Promise<void> {
    const read = this.read;
    if (!read) return;
    let revs: RevisionSummary[];
    try {
      revs = await listRevisions(read.id);
    } catch {
      return;
    }
    // Keep the read selector's "n rev" in step with the history (own saves, live saves, restores).
    const shown = this.reads.find((x) => x.id === read.id);
    if (shown && shown.revision_count !== revs.length) {
      shown.revision_count = revs.length;
      this.fillReadSelect();
    }
    clear(this.revisionBody);
    if (revs.length === 0) this.revisionBody.append(el("div", { class: "row dim" }, "No revisions yet"));
    renderHistoryRows({
      body: this.revisionBody,
      revisions: revs,
      editable: read.editable,
      shapesOf: this.shapesOfRevision,
      spacingOf: (image) => this.spacingOf(image),
      restore: (r) => void this.restore(r),
    });
  }

  private async restore(r: RevisionSummary): Promise<void> {
    const read = this.read;
    const a = this.autosave;
    if (!read || !a) return;
    if (a.dirty) await a.flush();
    const res = await restoreRevision(read.id, r.id, a.parent);
    if (res.kind === "saved") {
      const rev = res.rev ?? (await getRevision(res.revision.id));
      await a.takeTheirs({ id: rev.id });
      this.store.load({ shapes: rev.shapes, case_fields: rev.case_fields });
      this.setState("saved", `Restored #${r.number} as rev ${rev.number}`);
      this.onLoaded();
      void this.refreshRevisions();
    } else if (res.kind === "conflict") {
      toast("A newer revision exists: reload it before restoring", "warn");
      this.showConflict(res.head);
    } else {
      toast(`Restore failed: ${res.kind === "invalid" ? res.detail : res.message}`, "error");
    }
  }

  private async onLive(e: LiveEvent): Promise<void> {
    if (e.type === RECONNECTED) await this.resync();
    if (e.type === DENIED) {
      this.livePill.title = "Live updates stopped: you have no access to this case any more";
      toast("You no longer have access to this case; reload the page", "error", 10000);
    }
    if (e.type === "revision.saved") {
      const readId = Number(e.read);
      const rev = e.revision as { id: number; number: number; author: UserRef | string | number | null } | undefined;
      if (!rev) return;
      const r = this.reads.find((x) => x.id === readId);
      if (!r) {
        this.reads = await listReads(this.caseId);
        this.fillReadSelect();
      } else if (rev.number > r.revision_count) {
        r.revision_count = rev.number;
        this.fillReadSelect();
      }
      if (!this.read || readId !== this.read.id) return;
      const a = this.autosave;
      if (!a) return;
      // The event of our own save can arrive before its HTTP reply: wait for the save to finish first.
      if (a.state === "saving") await a.flush();
      if (rev.id === a.parent || this.ownRevisions.has(rev.id)) return;
      if (a.dirty || a.state === "saving") {
        toast(`${authorName(rev.author)} saved revision ${rev.number}; yours will be compared on save`, "warn");
        return;
      }
      const full = await getRevision(rev.id);
      a.follow(full.id);
      this.store.load({ shapes: full.shapes, case_fields: full.case_fields });
      this.setState("saved", `Updated · rev ${full.number} by ${authorName(full.author)}`);
      this.onLoaded();
      void this.refreshRevisions();
    }
    if (e.type === "job.progress") this.onJob(e.job);
    if (e.type === "measurement.updated") this.onMeasurementUpdated();
    if (e.type === "case.state_changed" && typeof e.state === "string") this.onCaseState(e.state);
  }

  /**
   * The socket was down and its events are lost: list the reads again, follow the open read's head
   * when nothing here is unsaved (as a live save would), and let the other panels refetch.
   */
  private async resync(): Promise<void> {
    this.reads = await listReads(this.caseId);
    this.fillReadSelect();
    const read = this.read;
    const a = this.autosave;
    if (read && a && !a.dirty && a.state !== "saving") {
      const head = (await getRead(read.id)).revision;
      // Edits made while the head was on its way win: they will be compared on save.
      if (head && head.id !== a.parent && !this.ownRevisions.has(head.id) && !a.dirty) {
        a.follow(head.id);
        this.store.load({ shapes: head.shapes, case_fields: head.case_fields });
        this.setState("saved", `Updated · rev ${head.number} by ${authorName(head.author)}`);
        this.onLoaded();
      }
    }
    this.retryOffline(); // the socket is back, so is the network
    void this.refreshRevisions();
    this.onMeasurementUpdated();
    this.onReconnected();
  }

  /** Lists the read if this page does not know it yet (a model read written by a pre-label job). */
  async ensureRead(readId: number): Promise<boolean> {
    if (this.reads.some((r) => r.id === readId)) return true;
    this.reads = await listReads(this.caseId);
    this.fillReadSelect();
    return this.reads.some((r) => r.id === readId);
  }

  /** Opens a read by id, listing it first when it is new to this page. */
  async show(readId: number): Promise<void> {
    if (this.read?.id === readId) return;
    if (await this.ensureRead(readId)) await this.open(readId);
    else toast("This read is not visible to you", "warn");
  }

  /** A `job.progress` event's job (unparsed: the jobs feature checks it). */
  onJob: (job: unknown) => void = () => {};
  onMeasurementUpdated: () => void = () => {};
  /** The live socket is back after a loss: panels fed by live events refetch (events were missed). */
  onReconnected: () => void = () => {};
  /** The case's workflow state changed on the server (e.g. new → prelabelled). */
  onCaseState: (state: string) => void = () => {};

  get role_(): string {
    return this.role;
  }

  close(): void {
    this.live?.close();
  }
}
