import { botRouter } from "./router/bot";
import { eventsRouter } from "./router/events";
import { jobsRouter } from "./router/jobs";
import { membersRouter } from "./router/members";
import { notificationsRouter } from "./router/notifications";
import { rosterRouter } from "./router/roster";
import { sessionRouter } from "./router/session";
import { createTRPCRouter } from "./trpc";

/** Every procedure Guildhall serves, under `/trpc` (HTTP and WebSocket). */
export const appRouter = createTRPCRouter({
  bot: botRouter,
  events: eventsRouter,
  jobs: jobsRouter,
  members: membersRouter,
  notifications: notificationsRouter,
  roster: rosterRouter,
  session: sessionRouter,
});

/** The router's type: what the SPA, the bot and other TypeScript apps import to get a typed client. */
export type AppRouter = typeof appRouter;
