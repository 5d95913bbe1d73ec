import { describe, expect, it } from "@effect/vitest";
import { sql } from "drizzle-orm";
import { Effect } from "effect";
import postgres from "postgres";
import { Database, executeRows } from "../src";

const expectedTables = [
  "accounts",
  "api_tokens",
  "bot_heartbeats",
  "domain_events",
  "group_member_changes",
  "group_members",
  "groups",
  "guild_invites",
  "guild_members",
  "guild_membership_history",
  "guild_roles",
  "guild_settings",
  "guilds",
  "integration_states",
  "integrations",
  "member_sync_chunks",
  "member_sync_pending_leaves",
  "member_sync_runs",
  "organizations",
  "presence_samples",
  "presences",
  "reconciliation_runs",
  "reconciliation_steps",
  "role_audit_log",
  "role_guild_settings",
  "role_mappings",
  "role_member_states",
  "role_menus",
  "role_settings",
  "role_suppressions",
  "seen_guilds",
  "sessions",
  "staff",
  "users",
  "verifications",
  "webhook_deliveries",
  "webhooks",
];

const tablesAndRoundTrip = Effect.gen(function* () {
  const { use, listen, notify } = yield* Database;
  const names = yield* use("list tables", (db) =>
    executeRows<{ table_name: string }>(
      db,
      sql`select table_name from information_schema.tables where table_schema = current_schema() order by table_name`,
    ),
  );
  const received: string[] = [];
  yield* listen("guildhall_test", (payload) => received.push(payload));
  yield* notify("guildhall_test", "hello");
  yield* Effect.promise(async () => {
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  });
  return { names: names.map((r) => r.table_name), received };
});

const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

describe("migrations", () => {
  it.effect("apply on embedded PGlite, and LISTEN/NOTIFY works", () =>
    Effect.gen(function* () {
      const { names, received } = yield* Effect.scoped(tablesAndRoundTrip).pipe(Effect.provide(Database.layer({ dataDir: "memory://" })));
      expect(names).toEqual(expectedTables);
      expect(received).toEqual(["hello"]);
    }),
  );

  it.effect("apply on the local Postgres (twice: the second run is a no-op), and LISTEN/NOTIFY works", () =>
    Effect.gen(function* () {
      // A fresh database per run: migrations must build everything from nothing.
      const dbName = `guildhall_test_${process.pid}_${Date.now()}`;
      const admin = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      yield* Effect.promise(() => admin.unsafe(`create database ${dbName}`));
      const url = postgresUrl.replace(/\/[^/]*$/, `/${dbName}`);
      try {
        const first = yield* Effect.scoped(tablesAndRoundTrip).pipe(Effect.provide(Database.layer({ url })));
        const second = yield* Effect.scoped(tablesAndRoundTrip).pipe(Effect.provide(Database.layer({ url })));
        expect(first.names).toEqual(expectedTables);
        expect(second.names).toEqual(expectedTables);
        expect(first.received).toEqual(["hello"]);
      } finally {
        yield* Effect.promise(async () => {
          await admin.unsafe(`drop database if exists ${dbName} with (force)`);
          await admin.end();
        });
      }
    }),
  );
});
