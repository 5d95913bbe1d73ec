/** @guildhall/server: one Node process serving tRPC (HTTP + WebSocket), auth, /healthz and the SPA. */

export { INSTALL_CALLBACK_PATH } from "@guildhall/sync";
export {
  type AdminCredentials,
  DEFAULT_ORGANIZATION,
  DEMO_WEBHOOK_NAME,
  type DemoGuild,
  type DemoRoleGroup,
  ensureConfiguredAdmin,
  ensureFirstAdmin,
  ensureOrganizationAdmin,
  generatePassword,
  type OrganizationSeed,
  seedDemoGuild,
  seedDemoRoleMenu,
  seedDemoRoles,
  seedDemoWebhook,
} from "./bootstrap";
export { DEFAULT_ADMIN_EMAIL, EnvError, readServerEnv, type ServerEnv } from "./env";
export { type RunningServer, type ServerOptions, startServer } from "./server";
