/** Saving text the SPA already holds as a file, without a server round trip. */

/** How long an object URL outlives its click (ms). */
const REVOKE_AFTER_MS = 40_000;

/**
 * Offers `text` as a download named `filename`: a Blob, an object URL and a temporary
 * `<a download>` that is clicked and removed. The URL is revoked after {@link REVOKE_AFTER_MS}:
 * revoking it at once can cancel a download the browser has not started reading yet (FileSaver.js
 * waits 40 s for the same reason).
 */
export function downloadText(filename: string, text: string, type = "text/plain;charset=utf-8"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.rel = "noopener";
  link.style.display = "none";
  document.body.append(link);
  try {
    link.click();
  } finally {
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
  }
}
