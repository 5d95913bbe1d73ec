/**
 * API tokens: how other apps call Guildhall's API (`Authorization: Bearer gh_...`, or the
 * WebSocket connectionParam `token`). A token belongs to one organization and carries a scope;
 * it is shown once, at creation, and only its SHA-256 is stored.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { Database, type DatabaseError, schema } from "@guildhall/db";
import { and, desc, eq, isNull } from "drizzle-orm";
import { Context, Effect, Layer, Schema } from "effect";
import { ApiTokenNotFound, InvalidApiToken } from "./errors";

/** What a token may do: `read` (staff queries and subscriptions) or `read_write` (also the write procedures). */
export const TokenScope = Schema.Literals(["read", "read_write"]);
export type TokenScope = typeof TokenScope.Type;

/** The prefix every token starts with, so that one pasted somewhere it should not be is recognisable. */
export const TOKEN_PREFIX = "gh_";

/** A token as it is listed: never the token itself, nor its hash. Times are ISO-8601; `prefix` is its first 10 characters. */
export interface ApiTokenInfo {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  readonly scope: TokenScope;
  readonly prefix: string;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

/** Who a valid token acts as: its organization, its scope, its name, and the user who created it. */
export interface TokenIdentity {
  readonly tokenId: string;
  readonly name: string;
  readonly organizationId: string;
  readonly organizationName: string;
  readonly scope: TokenScope;
  readonly createdBy: string;
}

/** The SHA-256 of a token, hex: what is stored and looked up. */
export const hashToken = (token: string): string => createHash("sha256").update(token).digest("hex");

const toInfo = (row: typeof schema.apiTokens.$inferSelect): ApiTokenInfo => ({
  id: row.id,
  organizationId: row.organizationId,
  name: row.name,
  scope: row.scope,
  prefix: row.prefix,
  createdBy: row.createdBy,
  createdAt: row.createdAt.toISOString(),
  lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** Creates, lists, revokes and checks API tokens. */
export class ApiTokens extends Context.Service<
  ApiTokens,
  {
    /**
     * A new token of `organizationId` named `name`, with `scope`, created by user `createdBy`:
     * `{token, info}`. `token` (`gh_` + 43 base64url characters, 256 random bits) is returned
     * here only; the database keeps its SHA-256.
     */
    readonly create: (input: {
      readonly organizationId: string;
      readonly name: string;
      readonly scope: TokenScope;
      readonly createdBy: string;
    }) => Effect.Effect<{ token: string; info: ApiTokenInfo }, DatabaseError>;
    /** The tokens of `organizationId`, newest first, revoked ones included (marked). */
    readonly list: (organizationId: string) => Effect.Effect<ReadonlyArray<ApiTokenInfo>, DatabaseError>;
    /** Revokes token `tokenId` of `organizationId` (idempotent). Fails with `ApiTokenNotFound` for another organization's or an unknown id. */
    readonly revoke: (organizationId: string, tokenId: string) => Effect.Effect<ApiTokenInfo, ApiTokenNotFound | DatabaseError>;
    /**
     * Who the presented token acts as, read from the database at every call (a revoked token is
     * refused at once: nothing is cached). Fails with `InvalidApiToken` when the token is
     * unknown or revoked. The hashes are compared in constant time.
     */
    readonly authenticate: (token: string) => Effect.Effect<TokenIdentity, InvalidApiToken | DatabaseError>;
  }
>()("@guildhall/sync/ApiTokens") {
  static readonly layer = Layer.effect(
    ApiTokens,
    Effect.gen(function* () {
      const { use } = yield* Database;
      const { apiTokens } = schema;

      const create = Effect.fn("ApiTokens.create")(function* (input: {
        readonly organizationId: string;
        readonly name: string;
        readonly scope: TokenScope;
        readonly createdBy: string;
      }) {
        const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
        const rows = yield* use("apiTokens.create", (db) =>
          db
            .insert(apiTokens)
            .values({
              id: crypto.randomUUID(),
              organizationId: input.organizationId,
              name: input.name,
              scope: input.scope,
              prefix: token.slice(0, 10),
              hash: hashToken(token),
              createdBy: input.createdBy,
            })
            .returning(),
        );
        return { token, info: toInfo(rows[0]!) };
      });

      const list = Effect.fn("ApiTokens.list")(function* (organizationId: string) {
        const rows = yield* use("apiTokens.list", (db) =>
          db
            .select()
            .from(apiTokens)
            .where(eq(apiTokens.organizationId, organizationId))
            .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id)),
        );
        return rows.map(toInfo);
      });

      const revoke = Effect.fn("ApiTokens.revoke")(function* (organizationId: string, tokenId: string) {
        const rows = yield* use("apiTokens.revoke", async (db) => {
          await db
            .update(apiTokens)
            .set({ revokedAt: new Date() })
            .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.organizationId, organizationId), isNull(apiTokens.revokedAt)));
          return db
            .select()
            .from(apiTokens)
            .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.organizationId, organizationId)));
        });
        const row = rows[0];
        if (!row) return yield* new ApiTokenNotFound({ tokenId });
        return toInfo(row);
      });

      const authenticate = Effect.fn("ApiTokens.authenticate")(function* (token: string) {
        if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return yield* new InvalidApiToken();
        const hash = hashToken(token);
        const rows = yield* use("apiTokens.authenticate", (db) =>
          db
            .select({ token: apiTokens, organizationName: schema.organizations.name })
            .from(apiTokens)
            .innerJoin(schema.organizations, eq(schema.organizations.id, apiTokens.organizationId))
            .where(and(eq(apiTokens.hash, hash), isNull(apiTokens.revokedAt))),
        );
        const found = rows[0];
        // The index found the row by hash; the comparison itself does not leak how much matched.
        if (!found || !timingSafeEqual(Buffer.from(found.token.hash, "hex"), Buffer.from(hash, "hex"))) return yield* new InvalidApiToken();
        const row = found.token;
        yield* use("apiTokens.touch", (db) => db.update(apiTokens).set({ lastUsedAt: new Date() }).where(eq(apiTokens.id, row.id)));
        // The token's id names it; the token itself is never logged.
        yield* Effect.logTrace(`api token ${row.id} (${row.scope}) authenticated for organization ${row.organizationId}`);
        return {
          tokenId: row.id,
          name: row.name,
          organizationId: row.organizationId,
          organizationName: found.organizationName,
          scope: row.scope,
          createdBy: row.createdBy,
        };
      });

      return ApiTokens.of({ create, list, revoke, authenticate });
    }),
  );
}
