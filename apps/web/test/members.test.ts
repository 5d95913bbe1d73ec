import { afterEach, describe, expect, it, vi } from "vitest";
import { fetchAppConfig } from "../src/lib/config";
import {
  avatarUrl,
  comparisonInput,
  csvDownloadName,
  defaultAvatarIndex,
  hasFilters,
  isIsoDate,
  memberNames,
  pageCount,
  pageRange,
  patchMembersSearch,
  roleColor,
  validateMembersSearch,
} from "../src/lib/members";
import { parseSearchParams, stringifySearchParams } from "../src/lib/search";
import type { ComparisonMember, ComparisonRow } from "../src/lib/types";

describe("search param codec", () => {
  it("keeps every value a string, so snowflakes are not rounded", () => {
    expect(parseSearchParams("?category=linked&roleId=281287222886531072&page=2")).toEqual({
      category: "linked",
      roleId: "281287222886531072",
      page: "2",
    });
    expect(parseSearchParams("search=a%20b%26c")).toEqual({ search: "a b&c" });
    expect(parseSearchParams("")).toEqual({});
  });

  it("writes plain pairs and drops empty values", () => {
    expect(stringifySearchParams({ roleId: "281287222886531072", page: 2, search: "a b&c", bots: undefined, x: "", y: null })).toBe(
      "?roleId=281287222886531072&page=2&search=a+b%26c",
    );
    expect(stringifySearchParams({})).toBe("");
  });

  it("round-trips through validateMembersSearch", () => {
    const search = {
      category: "left",
      search: "ada",
      roleId: "281287222886531072",
      bots: "none",
      joinedAfter: "2024-01-31",
      page: 3,
    } as const;
    expect(validateMembersSearch(parseSearchParams(stringifySearchParams(search)))).toEqual(search);
  });
});

describe("validateMembersSearch", () => {
  it("drops defaults and anything invalid", () => {
    expect(validateMembersSearch({})).toEqual({});
    expect(
      validateMembersSearch({
        category: "guild_only", // the default
        search: "   ",
        roleId: "12ab",
        bots: "maybe",
        joinedAfter: "2024-02-30",
        joinedBefore: "yesterday",
        page: "1",
      }),
    ).toEqual({});
    expect(validateMembersSearch({ category: "nope", page: "0" })).toEqual({});
    expect(validateMembersSearch({ page: "2.5" })).toEqual({});
    expect(validateMembersSearch({ page: "-3" })).toEqual({});
    expect(validateMembersSearch({ page: "1000000" })).toEqual({});
  });

  it("accepts the four categories, both bot filters, real dates and pages from 2", () => {
    for (const category of ["linked", "left", "no_guild_record"]) expect(validateMembersSearch({ category }).category).toBe(category);
    expect(validateMembersSearch({ bots: "only" }).bots).toBe("only");
    expect(validateMembersSearch({ bots: "none" }).bots).toBe("none");
    expect(validateMembersSearch({ joinedAfter: "2024-02-29", joinedBefore: "2025-12-31" })).toEqual({
      joinedAfter: "2024-02-29",
      joinedBefore: "2025-12-31",
    });
    expect(validateMembersSearch({ page: "7" }).page).toBe(7);
    // The router hands over numbers it built itself.
    expect(validateMembersSearch({ page: 4 }).page).toBe(4);
  });

  it("keeps the search as typed but at most 100 characters", () => {
    expect(validateMembersSearch({ search: " ada " }).search).toBe(" ada ");
    expect(validateMembersSearch({ search: "x".repeat(150) }).search).toHaveLength(100);
  });

  it("checks dates are real calendar days", () => {
    expect(isIsoDate("2024-02-29")).toBe(true);
    expect(isIsoDate("2023-02-29")).toBe(false);
    expect(isIsoDate("2024-13-01")).toBe(false);
    expect(isIsoDate("2024-1-01")).toBe(false);
    expect(isIsoDate("2024-01-01T00:00:00Z")).toBe(false);
  });
});

describe("patchMembersSearch", () => {
  it("goes back to page 1 when the list changes", () => {
    const prev = { category: "linked", search: "ada", page: 4 } as const;
    expect(patchMembersSearch(prev, { roleId: "42" })).toEqual({ category: "linked", search: "ada", roleId: "42" });
    expect(patchMembersSearch(prev, { category: "left" })).toEqual({ category: "left", search: "ada" });
    expect(patchMembersSearch(prev, { search: "" })).toEqual({ category: "linked" });
  });

  it("changes only the page when asked for a page", () => {
    expect(patchMembersSearch({ search: "ada", page: 4 }, { page: 5 })).toEqual({ search: "ada", page: 5 });
    expect(patchMembersSearch({ search: "ada", page: 4 }, { page: 1 })).toEqual({ search: "ada" });
  });

  it("clears keys set to undefined and drops the default category", () => {
    const prev = { category: "left", bots: "only", joinedAfter: "2024-01-01" } as const;
    expect(patchMembersSearch(prev, { bots: undefined, joinedAfter: undefined, category: "guild_only" })).toEqual({});
    expect(hasFilters(prev)).toBe(true);
    expect(hasFilters({ category: "left", page: 3 })).toBe(false);
  });
});

describe("comparisonInput", () => {
  it("maps the URL to the API's input", () => {
    expect(comparisonInput({}, 50)).toEqual({ category: "guild_only", pageSize: 50 });
    expect(
      comparisonInput(
        {
          category: "linked",
          search: "  ada ",
          roleId: "42",
          bots: "none",
          joinedAfter: "2024-01-01",
          joinedBefore: "2025-01-01",
          page: 3,
        },
        25,
      ),
    ).toEqual({
      category: "linked",
      pageSize: 25,
      page: 3,
      search: "ada",
      roleId: "42",
      isBot: false,
      joinedAfter: "2024-01-01",
      joinedBefore: "2025-01-01",
    });
    expect(comparisonInput({ bots: "only" }, 50).isBot).toBe(true);
  });

  it("leaves member filters out for no_guild_record, which has no members", () => {
    expect(
      comparisonInput({ category: "no_guild_record", search: "ada", roleId: "42", bots: "only", joinedAfter: "2024-01-01" }, 50),
    ).toEqual({
      category: "no_guild_record",
      pageSize: 50,
      search: "ada",
    });
  });
});

describe("paging", () => {
  it("counts pages, at least one", () => {
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(50, 50)).toBe(1);
    expect(pageCount(51, 50)).toBe(2);
    expect(pageCount(475, 50)).toBe(10);
    expect(pageCount(10, 0)).toBe(1);
  });
  it("gives the rows a page shows", () => {
    expect(pageRange(1, 50, 475)).toEqual({ from: 1, to: 50 });
    expect(pageRange(10, 50, 475)).toEqual({ from: 451, to: 475 });
    expect(pageRange(11, 50, 475)).toEqual({ from: 0, to: 0 });
    expect(pageRange(1, 50, 0)).toEqual({ from: 0, to: 0 });
  });
});

const member = (extra: Partial<ComparisonMember> = {}): ComparisonMember => ({
  username: "ada.l",
  globalName: "Ada Lovelace",
  nick: null,
  avatar: null,
  roleIds: [],
  joinedAt: "2024-01-01T00:00:00.000Z",
  isBot: false,
  dateLeft: null,
  ...extra,
});
const row = (m: ComparisonMember | null, user: ComparisonRow["user"] = null): ComparisonRow => ({ discordId: "42", member: m, user });

describe("memberNames", () => {
  it("shows the name Discord shows in the guild first", () => {
    expect(memberNames(row(member()))).toEqual({ primary: "Ada Lovelace", secondary: ["@ada.l"] });
    expect(memberNames(row(member({ nick: "Ada [Staff]" })))).toEqual({ primary: "Ada [Staff]", secondary: ["Ada Lovelace", "@ada.l"] });
    expect(memberNames(row(member({ globalName: null })))).toEqual({ primary: "ada.l", secondary: ["@ada.l"] });
  });
  it("falls back to the app user without a guild member", () => {
    expect(memberNames(row(null, { id: "u1", name: "Ada", email: "ada@example.com" })).primary).toBe("Ada");
    expect(memberNames(row(null, { id: "u1", name: "", email: "ada@example.com" })).primary).toBe("ada@example.com");
    expect(memberNames(row(null)).primary).toBe("42");
  });
});

describe("roleColor", () => {
  it("turns Discord's RGB integer into #rrggbb, 0 into null", () => {
    expect(roleColor(0)).toBeNull();
    expect(roleColor(0x3498db)).toBe("#3498db");
    expect(roleColor(0x00000f)).toBe("#00000f");
    expect(roleColor(-1)).toBeNull();
    expect(roleColor(0x1000000)).toBeNull();
  });
});

describe("avatars", () => {
  it("builds CDN avatar URLs at 64 px", () => {
    expect(avatarUrl("https://cdn.discordapp.com", "103374158564630783", "4bb1e9af4177f9f86c47349a7de52c82")).toBe(
      "https://cdn.discordapp.com/avatars/103374158564630783/4bb1e9af4177f9f86c47349a7de52c82.png?size=64",
    );
    // The emulator's CDN lives under a path; a trailing slash is tolerated.
    expect(avatarUrl("http://127.0.0.1:3201/cdn/", "1", "a_ff", 128)).toBe("http://127.0.0.1:3201/cdn/avatars/1/a_ff.png?size=128");
  });

  it("uses Discord's default avatar, (id >> 22) % 6, without a hash", () => {
    expect(defaultAvatarIndex("80351110224678912")).toBe(5);
    expect(defaultAvatarIndex("175928847299117063")).toBe(2);
    // Beyond 2^53: needs BigInt, a Number would round it.
    expect(defaultAvatarIndex("1573911004725772288")).toBe(5);
    expect(defaultAvatarIndex("not-a-snowflake")).toBe(0);
    expect(avatarUrl("https://cdn.discordapp.com", "175928847299117063", null)).toBe("https://cdn.discordapp.com/embed/avatars/2.png");
  });
});

describe("csvDownloadName", () => {
  const day = new Date(2026, 0, 31, 23, 59); // local time
  it("adds the local day to the API's file name", () => {
    expect(csvDownloadName("guildhall-281286971228161030-guild_only.csv", day)).toBe(
      "guildhall-281286971228161030-guild_only-2026-01-31.csv",
    );
  });
  it("keeps names file-system safe and always .csv", () => {
    expect(csvDownloadName("../../etc/pass wd", day)).toBe("etc-pass-wd-2026-01-31.csv");
    expect(csvDownloadName("Report.CSV", day)).toBe("Report-2026-01-31.csv");
    expect(csvDownloadName("", day)).toBe("guildhall-members-2026-01-31.csv");
  });
});

describe("fetchAppConfig", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("reads the CDN base from /api/config", async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ discordCdnUrl: "http://127.0.0.1:3201/cdn/" }), { status: 200 }));
    vi.stubGlobal("fetch", fetchMock);
    await expect(fetchAppConfig()).resolves.toEqual({ discordCdnUrl: "http://127.0.0.1:3201/cdn", discordSignIn: false });
    expect(fetchMock).toHaveBeenCalledWith("/api/config", expect.anything());
  });

  it("reads whether Sign in with Discord is offered (only a literal true turns it on)", async () => {
    vi.stubGlobal("fetch", async () => new Response(JSON.stringify({ discordSignIn: true }), { status: 200 }));
    await expect(fetchAppConfig()).resolves.toMatchObject({ discordSignIn: true });
    vi.stubGlobal("fetch", async () => new Response(JSON.stringify({ discordSignIn: "yes" }), { status: 200 }));
    await expect(fetchAppConfig()).resolves.toMatchObject({ discordSignIn: false });
  });

  it("falls back to Discord's CDN when the endpoint is missing, broken or unreachable", async () => {
    vi.stubGlobal("fetch", async () => new Response("Not found", { status: 404 }));
    await expect(fetchAppConfig()).resolves.toEqual({ discordCdnUrl: "https://cdn.discordapp.com", discordSignIn: false });
    vi.stubGlobal("fetch", async () => new Response("{}", { status: 200 }));
    await expect(fetchAppConfig()).resolves.toEqual({ discordCdnUrl: "https://cdn.discordapp.com", discordSignIn: false });
    vi.stubGlobal("fetch", async () => new Response(JSON.stringify({ discordCdnUrl: "javascript:alert(1)" }), { status: 200 }));
    await expect(fetchAppConfig()).resolves.toEqual({ discordCdnUrl: "https://cdn.discordapp.com", discordSignIn: false });
    vi.stubGlobal("fetch", async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(fetchAppConfig()).resolves.toEqual({ discordCdnUrl: "https://cdn.discordapp.com", discordSignIn: false });
  });
});
