/** Small helpers over node:http for JSON answers and bodies. */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Writes `body` as JSON with `status` and extra headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Ends with an empty body (204 by default). */
export function sendEmpty(res: ServerResponse, status = 204, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}

/** Thrown by {@link readJson} for an unreadable body. */
export class BodyError extends Error {}

/**
 * Reads a JSON body of at most `maxBytes` (default 1 MiB). An empty body reads as `undefined`.
 * Throws BodyError on invalid JSON or an oversized body.
 */
export async function readJson(req: IncomingMessage, maxBytes = 1 << 20): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw new BodyError(`body larger than ${maxBytes} bytes`);
    chunks.push(buf);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BodyError("body is not valid JSON");
  }
}

/** Matches `/a/:b/c` style patterns against a path; returns the params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/");
  const s = path.split("/");
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const part = p[i] as string;
    const seg = s[i] as string;
    if (part.startsWith(":")) {
      if (seg === "") return null;
      try {
        params[part.slice(1)] = decodeURIComponent(seg);
      } catch {
        return null;
      }
    } else if (part !== seg) return null;
  }
  return params;
}

/** Writes already-serialised JSON bytes with `status` and extra headers. */
export function sendJsonBytes(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": body.length, ...headers });
  res.end(body);
}

/** A file part of a multipart/form-data body, as Discord's attachment object describes it. */
export interface UploadedFile {
  /** The part name, e.g. "files[0]". */
  field: string;
  filename: string;
  contentType: string;
  size: number;
}

/** Thrown by {@link readBody} for a body that is not JSON (Discord: 400 / 50109). */
export class InvalidJsonError extends Error {}

/**
 * Reads a request body the way Discord's API takes it: JSON, or multipart/form-data whose
 * `payload_json` part is the JSON and whose other parts are files (https://discord.com/developers/docs/reference#uploading-files).
 * An empty body reads as `undefined`. Throws BodyError when larger than `maxBytes`, InvalidJsonError for bad JSON.
 */
export async function readBody(req: IncomingMessage, maxBytes = 26 << 20): Promise<{ json: unknown; files: UploadedFile[] }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw new BodyError(`body larger than ${maxBytes} bytes`);
    chunks.push(buf);
  }
  if (size === 0) return { json: undefined, files: [] };
  const raw = Buffer.concat(chunks);
  const type = req.headers["content-type"] ?? "";
  const boundary = /^multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
  if (!boundary) return { json: parseJson(raw.toString("utf8")), files: [] };

  const marker = Buffer.from(`--${boundary[1] ?? boundary[2] ?? ""}`);
  const files: UploadedFile[] = [];
  let json: unknown;
  let start = raw.indexOf(marker);
  while (start >= 0) {
    const next = raw.indexOf(marker, start + marker.length);
    if (next < 0) break;
    const part = raw.subarray(start + marker.length + 2, next - 2); // skip CRLF after the marker and before the next
    const headerEnd = part.indexOf("\r\n\r\n");
    if (headerEnd >= 0) {
      const headers = part.subarray(0, headerEnd).toString("utf8");
      const content = part.subarray(headerEnd + 4);
      const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? "";
      const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
      if (name === "payload_json") json = parseJson(content.toString("utf8"));
      else if (filename !== undefined) {
        files.push({
          field: name,
          filename,
          contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim() ?? "application/octet-stream",
          size: content.length,
        });
      }
    }
    start = next;
  }
  return { json, files };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidJsonError("The request body contains invalid JSON.");
  }
}

/**
 * Reads an `application/x-www-form-urlencoded` body (the OAuth2 routes and the authorize form) of at
 * most `maxBytes` into its fields (the last value of a repeated field wins; `all` keeps every value).
 * Any other content type reads as no fields. Throws BodyError when larger than `maxBytes`.
 */
export async function readForm(
  req: IncomingMessage,
  maxBytes = 64 << 10,
): Promise<{ json: Record<string, string>; files: UploadedFile[]; all: URLSearchParams }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw new BodyError(`body larger than ${maxBytes} bytes`);
    chunks.push(buf);
  }
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  const all =
    type === "application/x-www-form-urlencoded" ? new URLSearchParams(Buffer.concat(chunks).toString("utf8")) : new URLSearchParams();
  return { json: Object.fromEntries(all), files: [], all };
}
