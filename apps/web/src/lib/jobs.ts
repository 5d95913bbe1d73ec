/** The Jobs page's types, labels and search parameters (`?queue=...&state=...&page=...`). */
import type { inferInput, inferOutput } from "@trpc/tanstack-react-query";
import type { trpc } from "./trpc";

/** `jobs.queues`: every queue with its counts and schedule. */
export type QueueOverview = inferOutput<typeof trpc.jobs.queues>[number];
/** `jobs.list` input. */
export type JobListInput = inferInput<typeof trpc.jobs.list>;
/** One job as `jobs.list` returns it. */
export type JobRow = inferOutput<typeof trpc.jobs.list>["jobs"][number];
/** The state groups `jobs.list` filters on. */
export type JobStateFilter = NonNullable<JobListInput["state"]>;

/** The filter choices, in the order the page offers them. */
export const STATE_FILTERS: ReadonlyArray<{ readonly value: JobStateFilter | "all"; readonly label: string }> = [
  { value: "all", label: "All" },
  { value: "pending", label: "Pending" },
  { value: "active", label: "Active" },
  { value: "failed", label: "Failed" },
  { value: "dead", label: "Dead" },
  { value: "completed", label: "Completed" },
  { value: "cancelled", label: "Cancelled" },
];

/** How each job state reads, and the badge colours it borrows (the sync badges: blue, green, amber, red). */
export const JOB_STATE: Record<JobRow["state"], { readonly label: string; readonly badge: string }> = {
  created: { label: "Pending", badge: "badge-offline" },
  retry: { label: "Retrying", badge: "badge-sync-incomplete" },
  active: { label: "Active", badge: "badge-sync-running" },
  completed: { label: "Completed", badge: "badge-sync-completed" },
  cancelled: { label: "Cancelled", badge: "badge-offline" },
  failed: { label: "Failed", badge: "badge-sync-failed" },
  dead: { label: "Dead letter", badge: "badge-sync-failed" },
};

/** Which actions a job in `state` allows (the server enforces the same). */
export const canRetry = (state: JobRow["state"]): boolean => state === "failed" || state === "cancelled" || state === "dead";
export const canDiscard = (state: JobRow["state"]): boolean => state !== "active";

/** A 5-field cron expression in words, for the few shapes the catalogue uses; the expression itself otherwise. */
export function describeCron(cron: string): string {
  if (cron === "* * * * *") return "every minute";
  const hourly = /^(\d{1,2}) \* \* \* \*$/.exec(cron);
  if (hourly) return `every hour at :${hourly[1]!.padStart(2, "0")}`;
  const everyN = /^\*\/(\d+) \* \* \* \*$/.exec(cron);
  if (everyN) return `every ${everyN[1]} minutes`;
  return cron;
}

/** The page's search parameters: the queue shown, the state filter and the page (1-based). */
export interface JobsSearch {
  readonly queue?: string;
  readonly state?: JobStateFilter;
  readonly page?: number;
}

const FILTER_VALUES = new Set<string>(STATE_FILTERS.map((f) => f.value));

/** Keeps only well-formed search parameters (anything else falls back to the defaults). */
export function validateJobsSearch(search: Record<string, unknown>): JobsSearch {
  const queue = typeof search.queue === "string" && /^[\w.\-/]{1,100}$/.test(search.queue) ? search.queue : undefined;
  const state =
    typeof search.state === "string" && FILTER_VALUES.has(search.state) && search.state !== "all"
      ? (search.state as JobStateFilter)
      : undefined;
  const page = Number(search.page);
  return {
    ...(queue ? { queue } : {}),
    ...(state ? { state } : {}),
    ...(Number.isInteger(page) && page > 1 && page <= 100_000 ? { page } : {}),
  };
}
