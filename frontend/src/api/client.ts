/** HTTP client for docs/API.md: session cookie auth, CSRF header on unsafe methods, JSON errors. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** Network failure (no HTTP status): the request may be retried later. */
export class NetworkError extends Error {}

export function csrfToken(): string {
  const m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
  return m ? decodeURIComponent(m[1]) : "";
}

function errorMessage(status: number, body: unknown): string {
  if (body && typeof body === "object") {
    const o = body as Record<string, unknown>;
    if (typeof o.detail === "string") return o.detail;
    const parts = Object.entries(o).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(" ") : String(v)}`);
    if (parts.length) return parts.join("; ");
  }
  return `HTTP ${status}`;
}

async function request(method: string, url: string, body?: unknown, init?: RequestInit): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  try {
    return await fetch(url, { method, headers, body: payload ?? null, credentials: "same-origin", ...init });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { detail: text.slice(0, 300) };
    }
  }
  if (!res.ok) throw new ApiError(res.status, body, errorMessage(res.status, body));
  return body as T;
}

export async function getJSON<T>(url: string): Promise<T> {
  return parse<T>(await request("GET", url));
}

export async function postJSON<T>(url: string, body: unknown): Promise<T> {
  return parse<T>(await request("POST", url, body));
}

export async function putJSON<T>(url: string, body: unknown): Promise<T> {
  return parse<T>(await request("PUT", url, body));
}

/** The `rel="next"` URL of a Link header (docs/API.md, "Lists"), or null on the last page. */
export function nextPage(link: string | null): string | null {
  const m = /<([^>]+)>;\s*rel="next"/.exec(link ?? "");
  return m ? m[1] : null;
}

/** Every row of a paginated list: follows the Link header until the last page. */
export async function getAllPages<T>(url: string): Promise<T[]> {
  const rows: T[] = [];
  let next: string | null = url;
  while (next) {
    const res = await request("GET", next);
    rows.push(...(await parse<T[]>(res)));
    next = nextPage(res.headers.get("Link"));
  }
  return rows;
}

/** DELETE; a 204 answers null. */
export async function deleteJSON<T = null>(url: string): Promise<T> {
  return parse<T>(await request("DELETE", url));
}

export async function postForm<T>(url: string, form: FormData): Promise<T> {
  return parse<T>(await request("POST", url, form));
}

/** Raw pixels of one slice (the browser's HTTP cache keeps them: the URL is immutable). */
export async function getPixels(imageId: number, signal?: AbortSignal): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetch(`/api/images/${imageId}/pixels`, { credentials: "same-origin", signal: signal ?? null });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) throw new ApiError(res.status, null, `pixels of image ${imageId}: HTTP ${res.status}`);
  return res.arrayBuffer();
}
