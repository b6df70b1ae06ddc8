/** Live WebSocket of a case (`/ws/cases/{id}/`) or a project (`/ws/projects/{slug}/`): reconnects with
 * backoff and hands JSON events to a callback. */

export interface LiveEvent {
  type: string;
  [key: string]: unknown;
}

/** A synthetic event handed to the callback when the socket opens again after a loss. */
export const RECONNECTED = "live.reconnected";
/** A synthetic event handed to the callback when the server refuses the socket (no access, or no longer):
 * it is not reopened. */
export const DENIED = "live.denied";
/** The close code the server uses for a user who may not follow this case or project. */
const CLOSE_DENIED = 4403;

export class LiveSocket {
  private ws: WebSocket | null = null;
  private retry = 500;
  private closed = false;
  private opened = false;
  connected = false;

  constructor(
    /** A case id, or a path such as `/ws/projects/cervical/`. */
    private readonly target: number | string,
    private readonly onEvent: (e: LiveEvent) => void,
    private readonly onStatus: (connected: boolean) => void = () => {},
  ) {
    this.open();
  }

  private open(): void {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const path = typeof this.target === "number" ? `/ws/cases/${this.target}/` : this.target;
    const ws = new WebSocket(`${proto}://${location.host}${path}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 500;
      this.connected = true;
      this.onStatus(true);
      // Events sent while the socket was down (network loss, a server or Redis restart) are not
      // replayed: a reopened socket tells the page to refetch what it shows.
      if (this.opened) this.onEvent({ type: RECONNECTED });
      this.opened = true;
    };
    ws.onmessage = (m) => {
      let data: LiveEvent;
      try {
        data = JSON.parse(String(m.data)) as LiveEvent;
      } catch {
        return; // a malformed frame is ignored
      }
      // Outside the try: a page's handler that throws shows in the console, not silently.
      if (data && typeof data.type === "string") this.onEvent(data);
    };
    ws.onclose = (ev) => {
      this.connected = false;
      this.onStatus(false);
      if (this.closed) return;
      if (ev.code === CLOSE_DENIED) {
        this.closed = true;
        this.onEvent({ type: DENIED });
        return;
      }
      setTimeout(() => this.open(), this.retry);
      this.retry = Math.min(this.retry * 2, 15_000);
    };
  }

  close(): void {
    this.closed = true;
    this.ws?.close();
  }
}
