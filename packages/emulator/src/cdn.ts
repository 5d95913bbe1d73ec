/**
 * The CDN under /cdn: avatars as generated PNGs, whatever size or format is asked for.
 * https://discord.com/developers/docs/reference#image-formatting
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "./http";
import { avatarPng } from "./png";

const ROUTES = [
  /^\/avatars\/[0-9]+\/(a_)?[0-9a-f]{32}\.(png|webp|jpg|jpeg|gif)$/,
  /^\/embed\/avatars\/[0-5]\.png$/,
  /^\/guilds\/[0-9]+\/users\/[0-9]+\/avatars\/(a_)?[0-9a-f]{32}\.(png|webp|jpg|jpeg|gif)$/,
];

/**
 * Answers GET/HEAD of /cdn/avatars/{user}/{hash}.{ext}, /cdn/embed/avatars/{n}.png and
 * /cdn/guilds/{g}/users/{u}/avatars/{hash}.{ext} with a PNG that depends only on the path (`path`
 * is the part after /cdn); 404 for other paths, 405 for other methods.
 */
export function serveCdn(req: IncomingMessage, res: ServerResponse, path: string): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendJson(res, 405, { message: "405: Method Not Allowed", code: 0 });
    return;
  }
  if (!ROUTES.some((route) => route.test(path))) {
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("404: Not Found");
    return;
  }
  const png = avatarPng(path.replace(/\.[a-z]+$/, ""));
  res.writeHead(200, { "content-type": "image/png", "content-length": png.length, "cache-control": "public, max-age=86400" });
  res.end(req.method === "HEAD" ? undefined : png);
}
