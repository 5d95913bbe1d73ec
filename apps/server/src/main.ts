/**
 * The server on its own (docker-compose, or any deployment with a real Postgres and Discord).
 * On first start it creates the default organization and its admin: GUILDHALL_ADMIN_EMAIL /
 * GUILDHALL_ADMIN_PASSWORD, or a generated password logged once. A password from the
 * environment is never logged.
 */
import { logTo } from "@guildhall/api";
import { ensureConfiguredAdmin } from "./bootstrap";
import { readServerEnv } from "./env";
import { startServer } from "./server";

const { admin, ...env } = readServerEnv();
const server = await startServer({
  ...env,
  onReady: async (services) => {
    await ensureConfiguredAdmin(services, admin);
  },
});
await logTo(server.runtime, "Info", `Guildhall listening on ${env.publicUrl ?? `http://localhost:${server.port}`}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.close().finally(() => process.exit(0)));
}
