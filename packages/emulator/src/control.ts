/**
 * The control API under /_emulator (loopback only, JSON): seed guilds, drive presences and
 * membership, inject gateway faults. Errors are `{error: "..."}` naming the bad field.
 * {@link EmulatorControl} is the typed client.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { adminControlRoutes } from "./admincontrol";
import type { EmulatorServer } from "./emulator";
import { EmulatorError } from "./errors";
import { BodyError, matchPath, readJson, sendEmpty, sendJson } from "./http";
import { integrationControlRoutes } from "./integrationcontrol";
import type {
  ChurnOptions,
  CommandOptionValue,
  InvokeOptions,
  MemberChanges,
  MemberInput,
  MemberPatch,
  MemberUpdateShape,
  PresenceInput,
  SeedOptions,
} from "./types";
import { bool, object, onlyKeys, snowflake, str } from "./validate";

/** A control route's handler: path params, the JSON body (undefined for none), the query; resolves to status and JSON body. */
export type Handler = (
  params: Record<string, string>,
  body: unknown,
  query: URLSearchParams,
) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>;

/** One control route. */
export interface ControlRoute {
  method: string;
  pattern: string;
  handle: Handler;
  /** A POST/PUT/PATCH that may come without a body. */
  bodyOptional?: boolean;
}

/** Builds the /_emulator request handler for an emulator. */
export function createControlHandler(
  emulator: EmulatorServer,
): (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => void {
  const routes: ControlRoute[] = [
    {
      method: "GET",
      pattern: "/_emulator",
      handle: () => ({
        status: 200,
        body: {
          url: emulator.url,
          apiUrl: emulator.apiUrl,
          cdnUrl: emulator.cdnUrl,
          gatewayUrl: emulator.gatewayUrl,
          applicationId: emulator.applicationId,
          token: emulator.token,
          clientId: emulator.applicationId,
          clientSecret: emulator.clientSecret,
          publicKey: emulator.publicKey,
        },
      }),
    },
    ...integrationControlRoutes(emulator),
    ...adminControlRoutes(emulator),
    { method: "GET", pattern: "/_emulator/guilds", handle: () => ({ status: 200, body: emulator.guilds() }) },
    {
      method: "POST",
      pattern: "/_emulator/guilds",
      handle: (_p, body) => ({ status: 201, body: emulator.seedGuild(body as SeedOptions) }),
    },
    { method: "GET", pattern: "/_emulator/guilds/:guild", handle: (p) => ({ status: 200, body: emulator.guild(p.guild ?? "") }) },
    {
      method: "PUT",
      pattern: "/_emulator/guilds/:guild/members/:user/presence",
      handle: (p, body) => {
        emulator.setPresence(p.guild ?? "", p.user ?? "", body as PresenceInput);
        return { status: 204 };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/guilds/:guild/churn",
      handle: (p, body) => {
        emulator.startChurn(p.guild ?? "", body as ChurnOptions);
        return { status: 204 };
      },
    },
    {
      method: "DELETE",
      pattern: "/_emulator/guilds/:guild/churn",
      handle: (p) => {
        emulator.guild(p.guild ?? ""); // 404 for an unknown guild
        emulator.stopChurn(p.guild ?? "");
        return { status: 204 };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/guilds/:guild/members",
      handle: (p, body) => ({ status: 201, body: emulator.addMember(p.guild ?? "", (body ?? {}) as MemberInput) }),
    },
    {
      method: "GET",
      pattern: "/_emulator/guilds/:guild/members/:user",
      handle: (p) => {
        const member = emulator.member(p.guild ?? "", p.user ?? "");
        if (!member) throw new EmulatorError(404, `Unknown Member ${p.user ?? ""}`);
        return { status: 200, body: member };
      },
    },
    {
      method: "PATCH",
      pattern: "/_emulator/guilds/:guild/members/:user",
      handle: (p, body) => {
        emulator.updateMember(p.guild ?? "", p.user ?? "", body as MemberPatch);
        return { status: 200, body: emulator.member(p.guild ?? "", p.user ?? "") };
      },
    },
    {
      // A GUILD_MEMBER_UPDATE as a partial or faulty peer sends it: {omit?: [keys], set?: {key: value}}.
      method: "POST",
      pattern: "/_emulator/guilds/:guild/members/:user/update-event",
      handle: (p, body) => ({ status: 200, body: emulator.sendMemberUpdate(p.guild ?? "", p.user ?? "", body as MemberUpdateShape) }),
    },
    {
      method: "DELETE",
      pattern: "/_emulator/guilds/:guild/members/:user",
      handle: (p) => {
        emulator.removeMember(p.guild ?? "", p.user ?? "");
        return { status: 204 };
      },
    },
    {
      method: "POST",
      pattern: "/_emulator/gateway/drop",
      handle: (_p, body) => {
        const code = body === undefined ? undefined : object(body, "body").code;
        emulator.dropConnections(code as number | undefined);
        return { status: 204 };
      },
    },
    { method: "GET", pattern: "/_emulator/sessions", handle: () => ({ status: 200, body: emulator.sessions() }) },
    {
      method: "POST",
      pattern: "/_emulator/guilds/:guild/member-changes",
      handle: (p, body) => ({ status: 200, body: emulator.applyMemberChanges(p.guild ?? "", body as MemberChanges) }),
    },
    {
      // {userId, command, options?, channelId?, ignoreCommandPermissions?, omitMemberPermissions?} uses a slash command;
      // {userId, messageId, customId} clicks a button; {userId, messageId, customId, values} chooses in a select.
      method: "POST",
      pattern: "/_emulator/guilds/:guild/interactions",
      handle: (p, body) => {
        const o = object(body, "body");
        const guildId = p.guild ?? "";
        if (o.values !== undefined) {
          onlyKeys(o, ["userId", "messageId", "customId", "values"], "body");
          const interactionId = emulator.clickSelect(
            guildId,
            o.userId as string,
            str(o.messageId, "messageId", 1, 20),
            str(o.customId, "customId", 1, 100),
            o.values as string[],
          );
          return { status: 201, body: { interactionId } };
        }
        if (o.customId !== undefined || o.messageId !== undefined) {
          onlyKeys(o, ["userId", "messageId", "customId"], "body");
          const interactionId = emulator.clickButton(
            guildId,
            o.userId as string,
            str(o.messageId, "messageId", 1, 20),
            str(o.customId, "customId", 1, 100),
          );
          return { status: 201, body: { interactionId } };
        }
        onlyKeys(o, ["userId", "command", "options", "channelId", "ignoreCommandPermissions", "omitMemberPermissions"], "body");
        const invoke: InvokeOptions = {};
        if (o.channelId !== undefined) invoke.channelId = snowflake(o.channelId, "channelId");
        if (o.ignoreCommandPermissions !== undefined)
          invoke.ignoreCommandPermissions = bool(o.ignoreCommandPermissions, "ignoreCommandPermissions");
        if (o.omitMemberPermissions !== undefined) invoke.omitMemberPermissions = bool(o.omitMemberPermissions, "omitMemberPermissions");
        const options = o.options === undefined ? {} : (object(o.options, "options") as Record<string, CommandOptionValue>);
        const interactionId = emulator.invokeCommand(guildId, o.userId as string, str(o.command, "command", 1, 100), options, invoke);
        return { status: 201, body: { interactionId } };
      },
    },
    { method: "GET", pattern: "/_emulator/interactions/:id", handle: (p) => ({ status: 200, body: emulator.interaction(p.id ?? "") }) },
    {
      // {t, d}: a raw gateway dispatch (see Emulator.dispatchRaw); answers {sessions}.
      method: "POST",
      pattern: "/_emulator/guilds/:guild/dispatch",
      handle: (p, body) => {
        const o = object(body, "body");
        onlyKeys(o, ["t", "d"], "body");
        return { status: 200, body: { sessions: emulator.dispatchRaw(p.guild ?? "", o.t as string, o.d) } };
      },
    },
    {
      method: "GET",
      pattern: "/_emulator/commands",
      handle: (_p, _b, query) => ({ status: 200, body: emulator.commands(query.get("guildId") ?? undefined) }),
    },
  ];

  return (req, res, path, query) => {
    void (async () => {
      let matchedPath = false;
      for (const route of routes) {
        const params = matchPath(route.pattern, path.replace(/\/$/, "") || "/");
        if (!params) continue;
        matchedPath = true;
        if (route.method !== req.method) continue;
        try {
          const body = req.method === "GET" || req.method === "DELETE" ? undefined : await readJson(req);
          if (
            ["POST", "PUT", "PATCH"].includes(req.method ?? "") &&
            body === undefined &&
            !route.pattern.endsWith("/members") &&
            !route.pattern.endsWith("/drop") &&
            !route.bodyOptional
          ) {
            throw new EmulatorError(400, "body must be a JSON object");
          }
          const reply = await route.handle(params, body, query);
          if (reply.body === undefined) sendEmpty(res, reply.status);
          else sendJson(res, reply.status, reply.body);
        } catch (err) {
          if (err instanceof EmulatorError) sendJson(res, err.status, { error: err.message });
          else if (err instanceof BodyError) sendJson(res, 400, { error: err.message });
          else sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
        }
        return;
      }
      sendJson(res, matchedPath ? 405 : 404, {
        error: matchedPath ? `${req.method ?? ""} is not allowed on ${path}` : `no control route ${path}`,
      });
    })();
  };
}
