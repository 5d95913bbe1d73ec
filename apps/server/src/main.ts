/**
 * The server on its own (docker-compose, or any deployment with a real Postgres and Discord).
 * On first start it creates the default organization and its admin: GUILDHALL_ADMIN_EMAIL /
 * GUILDHALL_ADMIN_PASSWORD, or a generated password printed once.
 */
import { randomBytes } from "node:crypto";
import { ensureFirstAdmin } from "./bootstrap";
import { readServerEnv } from "./env";
import { startServer } from "./server";

const env = readServerEnv();
const adminEmail = process.env.GUILDHALL_ADMIN_EMAIL ?? "admin@guildhall.local";
const adminPassword = process.env.GUILDHALL_ADMIN_PASSWORD ?? randomBytes(12).toString("base64url");
const server = await startServer({
  ...env,
  onReady: async (services) => {
    const admin = await ensureFirstAdmin(services, { email: adminEmail, password: adminPassword, name: "Admin" });
    if (admin.created) console.log(`[server] created admin ${admin.email} with password ${admin.password} (shown once)`);
  },
});
console.log(`[server] Guildhall listening on ${env.publicUrl ?? `http://localhost:${server.port}`}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.close().finally(() => process.exit(0)));
}
