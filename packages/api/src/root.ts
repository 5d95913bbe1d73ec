import { botRouter } from "./router/bot";
import { eventsRouter } from "./router/events";
import { groupsRouter } from "./router/groups";
import { guildsRouter } from "./router/guilds";
import { integrationsRouter } from "./router/integrations";
import { jobsRouter } from "./router/jobs";
import { membersRouter } from "./router/members";
import { notificationsRouter } from "./router/notifications";
import { roleMenusRouter } from "./router/roleMenus";
import { rolesRouter } from "./router/roles";
import { rosterRouter } from "./router/roster";
import { sessionRouter } from "./router/session";
import { tokensRouter } from "./router/tokens";
import { createTRPCRouter } from "./trpc";

/** Every procedure Guildhall serves, under `/trpc` (HTTP and WebSocket). */
export const appRouter = createTRPCRouter({
  bot: botRouter,
  groups: groupsRouter,
  guilds: guildsRouter,
  integrations: integrationsRouter,
  jobs: jobsRouter,
  members: membersRouter,
  notifications: notificationsRouter,
  roles: rolesRouter,
  roleMenus: roleMenusRouter,
  events: eventsRouter,
  roster: rosterRouter,
  session: sessionRouter,
  tokens: tokensRouter,
});

/** The router's type: what the SPA, the bot and other TypeScript apps import to get a typed client. */
export type AppRouter = typeof appRouter;
