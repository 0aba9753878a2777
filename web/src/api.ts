// The JSON API client: same-origin fetch with the session cookie, the CSRF token on every write, and
// refusals turned into ApiError values carrying the server's stable code and readable message.

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export type ApiAnswer<T> = { status: number; body: T };

let csrfToken: string | undefined;
let onSessionLost: (() => void) | undefined;

export function rememberCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

// Called when the server says the session is gone, so the app can show the sign-in page.
export function whenSessionLost(listener: () => void): void {
  onSessionLost = listener;
}

export async function apiRequest<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network_error", "The server could not be reached. Check your connection and try again.");
  }
  const parsed = await response.json().catch(() => undefined) as (T & { csrfToken?: string; error?: string; message?: string }) | undefined;
  if (!response.ok) throw refusal(response.status, parsed);
  if (typeof parsed?.csrfToken === "string") rememberCsrfToken(parsed.csrfToken);
  return { status: response.status, body: parsed as T };
}

function refusal(status: number, parsed: { error?: unknown; message?: unknown } | undefined): ApiError {
  const code = typeof parsed?.error === "string" ? parsed.error : "http_error";
  const message = typeof parsed?.message === "string" ? parsed.message : `The server answered ${status}.`;
  if (code === "session_required" || code === "session_expired") onSessionLost?.();
  return new ApiError(status, code, message);
}

export type UploadProgress = { loaded: number; total: number };

// Sends a file as the raw request body (PUT, application/octet-stream): the browser streams it from
// disk, and XMLHttpRequest (unlike fetch) reports how much of it has gone, for a progress bar.
export function uploadFile<T>(path: string, file: Blob, headers: Record<string, string>, onProgress: (progress: UploadProgress) => void, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", path);
    request.responseType = "text";
    request.setRequestHeader("accept", "application/json");
    request.setRequestHeader("content-type", "application/octet-stream");
    if (csrfToken) request.setRequestHeader("x-csrf-token", csrfToken);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size });
    request.onload = () => {
      let parsed: (T & { error?: string; message?: string }) | undefined;
      try {
        parsed = JSON.parse(request.responseText) as T & { error?: string; message?: string };
      } catch {
        parsed = undefined;
      }
      if (request.status >= 200 && request.status < 300) {
        onProgress({ loaded: file.size, total: file.size });
        resolve(parsed as T);
      } else {
        reject(refusal(request.status, parsed));
      }
    };
    request.onerror = () => reject(new ApiError(0, "network_error", "The upload was interrupted. Check your connection and try again."));
    request.onabort = () => reject(new ApiError(0, "upload_cancelled", "The upload was cancelled."));
    signal?.addEventListener("abort", () => request.abort(), { once: true });
    request.send(file);
  });
}

export const api = {
  get: <T>(path: string) => apiRequest<T>("GET", path).then((answer) => answer.body),
  post: <T>(path: string, body: unknown = {}) => apiRequest<T>("POST", path, body).then((answer) => answer.body),
  put: <T>(path: string, body: unknown) => apiRequest<T>("PUT", path, body).then((answer) => answer.body),
  patch: <T>(path: string, body: unknown) => apiRequest<T>("PATCH", path, body).then((answer) => answer.body),
  delete: <T>(path: string) => apiRequest<T>("DELETE", path).then((answer) => answer.body),
};

export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return sentence(error.message);
  return "Something went wrong. Try again.";
}

// Server messages are lower-case clauses ("the code is wrong"); shown on their own they read better
// as sentences.
function sentence(message: string): string {
  const trimmed = message.trim();
  if (!trimmed) return "Something went wrong. Try again.";
  const capitalised = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

// apiPath`/v1/tenants/${id}/members`: every interpolated value is URL-encoded.
export const apiPath = (template: TemplateStringsArray, ...values: string[]) =>
  template.reduce((built, part, index) => built + part + (index < values.length ? encodeURIComponent(values[index]!) : ""), "");

// A POST whose answer is a file (a company export): sent with the CSRF token, saved by the browser.
// The browser holds the archive in memory until it is saved; very large companies are better
// exported with an API client that streams it to disk.
export async function postAndSave(path: string, filename: string): Promise<void> {
  const headers: Record<string, string> = {};
  if (csrfToken) headers["x-csrf-token"] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method: "POST", headers, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, "network_error", "The server could not be reached. Check your connection and try again.");
  }
  if (!response.ok) throw refusal(response.status, await response.json().catch(() => undefined) as { error?: unknown; message?: unknown } | undefined);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
