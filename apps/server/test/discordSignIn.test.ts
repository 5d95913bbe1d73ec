/**
 * Sign in with Discord (issue #9, items 3 and 4): the whole OAuth2 code grant through the
 * emulator, as a browser would walk it (our sign-in endpoint, the emulator's authorize page, our
 * callback), with the protections a sign-in keeps: the rate limit, the Origin check, a rotated
 * session, Secure cookies behind https, and no secret or token in the logs. The rate limit has
 * its own file (discordSignInLimit.test.ts): better-auth counts attempts per process.
 */
import { createClient, discordOnlyEmail } from "@guildhall/api";
import { type Emulator, type SeededGuild, startEmulator } from "@guildhall/emulator";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureFirstAdmin, type RunningServer, type ServerOptions, seedDemoGuild, startServer } from "../src";
import { ADMIN, signIn } from "./helpers";

/** A cookie jar: name -> value, fed by Set-Cookie headers (a cookie set to "" or expired is dropped). */
class Jar {
  readonly cookies = new Map<string, string>();
  take(response: Response): this {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const at = pair.indexOf("=");
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1);
      if (value === "" || /max-age=0\b/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return this;
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }
  session(): string | undefined {
    return [...this.cookies].find(([name]) => name.endsWith("better-auth.session_token"))?.[1];
  }
}

/** Where a 302 goes. */
const location = (response: Response): URL => {
  expect(response.status).toBe(302);
  return new URL(response.headers.get("location") ?? "", "http://localhost");
};

interface Dance {
  /** The first answer of our callback (302 to the callback URL on success, to the error URL otherwise). */
  readonly callback: Response;
  readonly jar: Jar;
}

/**
 * The OAuth2 dance of one browser (`jar`): Guildhall's sign-in endpoint, the emulator's authorize
 * page as Discord user `discordUserId` (approving, or denying with `deny`), Guildhall's callback.
 */
const dance = async (
  server: RunningServer,
  emulator: Emulator,
  discordUserId: string,
  options: { jar?: Jar; deny?: boolean } = {},
): Promise<Dance> => {
  const jar = options.jar ?? new Jar();
  const start = await fetch(`${server.url}/api/auth/sign-in/social`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.url, ...(jar.cookies.size ? { cookie: jar.header() } : {}) },
    body: JSON.stringify({ provider: "discord", callbackURL: "/roster", errorCallbackURL: "/sign-in" }),
  });
  expect(start.status).toBe(200);
  jar.take(start);
  const { url } = (await start.json()) as { url: string };
  const authorize = new URL(url);
  expect(authorize.origin).toBe(emulator.url);
  expect(authorize.searchParams.get("scope")).toBe("identify");
  expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
  // The authorize page's form, approved (or cancelled) by the chosen user.
  const form = new URLSearchParams(authorize.searchParams);
  form.set("user_id", discordUserId);
  form.set("action", options.deny ? "cancel" : "authorize");
  const approved = await fetch(`${emulator.url}/oauth2/authorize`, { method: "POST", body: form, redirect: "manual" });
  const back = location(approved);
  expect(back.origin + back.pathname).toBe(`http://localhost:${server.port}/api/auth/callback/discord`);
  const callback = await fetch(back, { headers: { cookie: jar.header() }, redirect: "manual" });
  jar.take(callback);
  return { callback, jar };
};

/** `session.me` in the session of `jar`. */
const me = (server: RunningServer, jar: Jar) => createClient({ url: server.url, cookie: jar.header() }).trpc.session.me.query();

describe("Sign in with Discord through the emulator", () => {
  let emulator: Emulator;
  let guild: SeededGuild;
  let server: RunningServer;
  /** Every line the process wrote to the console while these tests ran. */
  const logs: string[] = [];
  /** Every OAuth2 token the emulator issued to Guildhall (from the token endpoint's answers). */
  const issued: string[] = [];
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logs.push(args.map(String).join(" ")));
    }
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const response = await realFetch(input, init);
      if (String(input instanceof Request ? input.url : input).includes("/oauth2/token") && response.ok) {
        const body = (await response.clone().json()) as { access_token?: string; refresh_token?: string };
        for (const token of [body.access_token, body.refresh_token]) if (token) issued.push(token);
      }
      return response;
    });
    emulator = await startEmulator({ port: 0, log: (line) => logs.push(line) });
    guild = emulator.seedGuild({ seed: 7, members: 40, staff: 3, name: "Sign-in Guild" });
    server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      botKey: "test-bot-key-0123456789abcdef",
      webDist: "/nonexistent",
      // better-auth's limiter counts per process: this file's many sign-ins stay under it (the
      // limit itself: discordSignInLimit.test.ts).
      signInLimit: { windowS: 60, max: 1000 },
      discordClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
      discordOAuth: { authorizeUrl: emulator.oauth2().authorizeUrl, apiUrl: `${emulator.apiUrl}/v10` },
      onReady: async (services) => {
        await ensureFirstAdmin(services, ADMIN);
        const [first] = guild.staff;
        await seedDemoGuild(services, {
          guildId: guild.guildId,
          name: guild.name,
          staff: [{ discordId: first!.userId, name: "Linked Staff", handle: "linked.staff" }],
        });
      },
    });
    // The public URL (default http://localhost:PORT) is what better-auth builds its redirect_uri on.
    emulator.setRedirectUris([`http://localhost:${server.port}/api/auth/callback/discord`]);
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
    vi.restoreAllMocks();
  });

  it("links an existing user by Discord id: a staff member seeded with their Discord id signs in as that user", async () => {
    const staff = guild.staff[0]!;
    const { callback, jar } = await dance(server, emulator, staff.userId);
    expect(location(callback).pathname).toBe("/roster");
    const answer = await me(server, jar);
    expect(answer.user.email).toBe("linked.staff@demo.guildhall.invalid");
    expect(answer.staff?.organizationId).toBe("default");
    // Signing in again finds the same user through the Discord account now linked to it.
    const again = await dance(server, emulator, staff.userId);
    expect((await me(server, again.jar)).user.id).toBe(answer.user.id);
  });

  it("creates a new user, linked by Discord id, who is staff nowhere; the member comparison shows them linked at once", async () => {
    // A member who just joined the guild: no app account.
    const discordUserId = emulator.addMember(guild.guildId, { username: "newcomer", globalName: "New Comer" }).userId;
    const { callback, jar } = await dance(server, emulator, discordUserId);
    expect(location(callback).pathname).toBe("/roster");
    const answer = await me(server, jar);
    expect(answer.user.email).toBe(discordOnlyEmail(discordUserId));
    expect(answer.user.name).toBe("New Comer");
    expect(answer.staff).toBeNull();
    // Staff-only procedures say FORBIDDEN (the SPA shows its "not staff" page), not a 500.
    await expect(createClient({ url: server.url, cookie: jar.header() }).trpc.roster.list.query({})).rejects.toMatchObject({
      data: { code: "FORBIDDEN" },
    });
    // The mirror: after a snapshot holding that member, the admin's comparison lists them linked.
    const snapshot = await fetch(`${server.url}/api/dbot/sync_guild_members`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": server.botKey, "x-guild-id": guild.guildId },
      body: JSON.stringify({
        members: [{ id: discordUserId, username: "newcomer", roles: [], joined_at: "2025-01-01T00:00:00Z", is_bot: false }],
      }),
    });
    expect(snapshot.status).toBe(200);
    const admin = createClient({ url: server.url, cookie: await signIn(server) });
    const linked = await admin.trpc.members.comparison.query({ category: "linked", guildId: guild.guildId });
    expect(linked.rows.map((row) => [row.discordId, row.user?.id])).toContainEqual([discordUserId, answer.user.id]);
  });

  it("tells the SPA that Discord sign-in is offered, and nothing of the application's secret", async () => {
    const text = await (await fetch(`${server.url}/api/config`)).text();
    expect(JSON.parse(text)).toMatchObject({ discordSignIn: true });
    expect(text).not.toContain(emulator.clientSecret);
  });

  it("keeps accounts without Discord: the admin still signs in with the password", async () => {
    const cookie = await signIn(server);
    const answer = await createClient({ url: server.url, cookie }).trpc.session.me.query();
    expect(answer.user.email).toBe(ADMIN.email);
    expect(answer.staff?.role).toBe("admin");
  });

  it("rotates the session: a new session id at sign-in, and the one the browser held before no longer works", async () => {
    const jar = new Jar();
    jar.take(
      await fetch(`${server.url}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: server.url },
        body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
      }),
    );
    const before = jar.session();
    expect(before).toBeTruthy();
    const stale = jar.header();
    expect((await me(server, jar)).user.email).toBe(ADMIN.email);
    const { callback } = await dance(server, emulator, guild.staff[0]!.userId, { jar });
    expect(location(callback).pathname).toBe("/roster");
    const after = jar.session();
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    expect((await me(server, jar)).user.email).toBe("linked.staff@demo.guildhall.invalid");
    await expect(createClient({ url: server.url, cookie: stale }).trpc.session.me.query()).rejects.toMatchObject({
      data: { code: "UNAUTHORIZED" },
    });
  });

  it("sends a denied authorization back to the sign-in page with the error, and signs nobody in", async () => {
    const { callback, jar } = await dance(server, emulator, guild.staff[1]!.userId, { deny: true });
    const to = location(callback);
    expect(to.pathname).toBe("/sign-in");
    expect(to.searchParams.get("error")).toBe("access_denied");
    expect(jar.session()).toBeUndefined();
  });

  it("refuses to start a Discord sign-in from a foreign page (403), with or without a cookie, and a foreign callbackURL", async () => {
    for (const cookie of [undefined, "better-auth.session_token=x"]) {
      const answer = await fetch(`${server.url}/api/auth/sign-in/social`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://evil.example", ...(cookie ? { cookie } : {}) },
        body: JSON.stringify({ provider: "discord", callbackURL: "/roster" }),
      });
      expect(answer.status).toBe(403);
    }
    const foreignCallback = await fetch(`${server.url}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ provider: "discord", callbackURL: "https://evil.example/steal" }),
    });
    expect(foreignCallback.status).toBe(403);
  });

  it("never logs the client secret, an OAuth token or a session token", async () => {
    const { jar } = await dance(server, emulator, guild.staff[0]!.userId);
    expect(issued.length).toBeGreaterThan(0);
    const secrets = [emulator.clientSecret, ...issued, ...[...jar.cookies.values()].map((v) => decodeURIComponent(v).split(".")[0]!)];
    const text = logs.join("\n");
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(text).not.toContain(secret);
    }
  });

  it("follows users.discordId: once an admin moves a Discord id to another user, Discord signs in as that user", async () => {
    const discordUserId = emulator.addMember(guild.guildId, { username: "mover", globalName: "Mover" }).userId;
    const first = await dance(server, emulator, discordUserId);
    const created = await me(server, first.jar);
    expect(created.user.email).toBe(discordOnlyEmail(discordUserId));
    const admin = createClient({ url: server.url, cookie: await signIn(server) });
    const adminId = (await admin.trpc.session.me.query()).user.id;
    await admin.trpc.members.setDiscordId.mutate({ userId: created.user.id, discordId: null });
    await admin.trpc.members.setDiscordId.mutate({ userId: adminId, discordId: discordUserId });
    const second = await dance(server, emulator, discordUserId);
    expect((await me(server, second.jar)).user.id).toBe(adminId);
  });
});

describe("Discord sign-in protections", () => {
  let emulator: Emulator;
  const started: RunningServer[] = [];
  const start = async (options: Partial<ServerOptions>) => {
    const server = await startServer({
      port: 0,
      host: "127.0.0.1",
      dataDir: "memory://",
      webDist: "/nonexistent",
      signInLimit: { windowS: 60, max: 1000 },
      discordClient: { clientId: emulator.applicationId, clientSecret: emulator.clientSecret },
      discordOAuth: { authorizeUrl: emulator.oauth2().authorizeUrl, apiUrl: `${emulator.apiUrl}/v10` },
      onReady: (services) => ensureFirstAdmin(services, ADMIN).then(() => undefined),
      ...options,
    });
    started.push(server);
    return server;
  };
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: () => {} });
  });
  afterEach(async () => {
    for (const server of started.splice(0)) await server.close();
  });
  afterAll(() => emulator?.close());

  it("sets Secure session and state cookies when the public URL is https, and not when it is http", async () => {
    const https = await start({ publicUrl: "https://guildhall.example" });
    // better-auth trusts the public origin; the request says it comes from there.
    const viaHttps = await fetch(`${https.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://guildhall.example" },
      body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
    });
    expect(viaHttps.status).toBe(200);
    const secure = viaHttps.headers.getSetCookie();
    expect(secure.length).toBeGreaterThan(0);
    for (const line of secure) expect(line).toMatch(/;\s*Secure/i);
    expect(secure.some((line) => line.startsWith("__Secure-better-auth.session_token="))).toBe(true);
    const state = await fetch(`${https.url}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://guildhall.example" },
      body: JSON.stringify({ provider: "discord", callbackURL: "/roster" }),
    });
    expect(state.status).toBe(200);
    for (const line of state.headers.getSetCookie()) expect(line).toMatch(/;\s*Secure/i);

    const http = await start({});
    const viaHttp = await fetch(`${http.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: http.url },
      body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
    });
    expect(viaHttp.status).toBe(200);
    for (const line of viaHttp.headers.getSetCookie()) expect(line).not.toMatch(/;\s*Secure/i);
  }, 120_000);

  it("offers no Discord sign-in when the application is not configured", async () => {
    const server = await start({ discordClient: undefined });
    const answer = await fetch(`${server.url}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ provider: "discord", callbackURL: "/roster" }),
    });
    expect(answer.status).toBe(404);
    expect(await (await fetch(`${server.url}/api/config`)).json()).toMatchObject({ discordSignIn: false });
  });
});
