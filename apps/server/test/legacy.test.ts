/**
 * The legacy endpoint ends its run whatever fails after the run started: here the database
 * refuses the chunk (injected into the store), the caller gets the 500 `answerFor` gives a
 * DatabaseError, and the guild's next sync starts at once instead of answering 409.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Database, DatabaseError } from "@guildhall/db";
import { Directory, DomainEvents, MemberSync, MemberSyncStore } from "@guildhall/sync";
import { Effect, Layer, ManagedRuntime } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { handleLegacyMemberSync } from "../src/legacy";

const GUILD = "800000000000000009";
const BOT_KEY = "legacy-test-key-0123456789";

/** The store, except that applying a chunk fails as a broken database would. */
const ChunksFail = Layer.effect(
  MemberSyncStore,
  Effect.map(MemberSyncStore.make, (store) =>
    MemberSyncStore.of({ ...store, applyChunk: () => Effect.fail(new DatabaseError({ operation: "test.chunk", message: "injected" })) }),
  ),
);

describe("legacy endpoint when the database fails mid-run", () => {
  const runtime = ManagedRuntime.make(
    Layer.mergeAll(Directory.layer, MemberSync.layerOnStore.pipe(Layer.provide(ChunksFail), Layer.provide(DomainEvents.layer))).pipe(
      Layer.provideMerge(Database.layer({ dataDir: "memory://" })),
    ),
  );
  let http: Server;
  let url: string;

  beforeAll(async () => {
    await runtime.runPromise(
      Effect.gen(function* () {
        const directory = yield* Directory;
        yield* directory.ensureOrganization({ id: "org", name: "Org", slug: "org" });
        yield* directory.ensureGuild("org", { id: GUILD, name: "Guild", icon: null });
      }),
    );
    http = createServer((req, res) => void handleLegacyMemberSync({ runtime, botKey: BOT_KEY }, req, res));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/api/dbot/sync_guild_members`;
  });
  afterAll(async () => {
    await new Promise((resolve) => http?.close(resolve));
    await runtime.dispose();
  });

  it("answers 500 without details, ends the run as failed, and the next sync can start", async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": BOT_KEY, "x-guild-id": GUILD },
      body: JSON.stringify({
        members: [
          {
            id: "810000000000000001",
            username: "m",
            roles: [],
            joined_at: "2025-01-01T00:00:00Z",
            is_bot: false,
          },
        ],
      }),
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: "Internal error." });
    const [run] = await runtime.runPromise(MemberSync.use((sync) => sync.history(GUILD, 1)));
    expect(run).toMatchObject({ status: "failed", source: "legacy", reason: expect.stringContaining("DatabaseError") });
    const next = await runtime.runPromise(
      MemberSync.use((sync) => sync.start({ guildId: GUILD, trigger: "api", source: "gateway", requestedBy: null })),
    );
    expect(next.status).toBe("running");
  });
});
