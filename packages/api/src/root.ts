import { botRouter } from "./router/bot";
import { integrationsRouter } from "./router/integrations";
import { jobsRouter } from "./router/jobs";
import { membersRouter } from "./router/members";
import { rosterRouter } from "./router/roster";
import { sessionRouter } from "./router/session";
import { createTRPCRouter } from "./trpc";

/** Every procedure Guildhall serves, under `/trpc` (HTTP and WebSocket). */
export const appRouter = createTRPCRouter({
  bot: botRouter,
  integrations: integrationsRouter,
  jobs: jobsRouter,
  members: membersRouter,
  roster: rosterRouter,
  session: sessionRouter,
});

/** The router's type: what the SPA, the bot and other TypeScript apps import to get a typed client. */
export type AppRouter = typeof appRouter;
