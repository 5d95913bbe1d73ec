/** @guildhall/server: one Node process serving tRPC (HTTP + WebSocket), auth, /healthz and the SPA. */
export {
  type AdminCredentials,
  DEFAULT_ORGANIZATION,
  type DemoGuild,
  type DemoRoleGroup,
  ensureConfiguredAdmin,
  ensureFirstAdmin,
  ensureOrganizationAdmin,
  generatePassword,
  type OrganizationSeed,
  seedDemoGuild,
  seedDemoRoles,
} from "./bootstrap";
export { DEFAULT_ADMIN_EMAIL, EnvError, readServerEnv, type ServerEnv } from "./env";
export { type RunningServer, type ServerOptions, startServer } from "./server";
