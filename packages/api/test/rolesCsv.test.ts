import { describe, expect, it } from "vitest";
import { auditCsv } from "../src/router/roles";

const entry = {
  id: 1,
  guildId: "800000000000000001",
  runId: "3bd77698-f5bf-4c62-8ab0-21298f1a0672",
  actorKind: "user" as const,
  actorId: "admin-1",
  userId: "810000000000000001",
  outcome: "applied" as const,
  rolesBefore: ["820000000000000001"],
  rolesAfter: ["820000000000000001", "820000000000000002"],
  nickBefore: null,
  nickAfter: null,
  reason: 'Guildhall role sync: +820000000000000002 "quoted"',
  discordStatus: 200,
  discordCode: null,
  discordMessage: null,
  at: "2026-11-30T12:00:00.000Z",
};

describe("roles.auditCsv", () => {
  it("writes a header and one quoted row per entry, CRLF, role lists space-separated, inner quotes doubled", () => {
    const lines = auditCsv([entry]).split("\r\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^"id","at","guild_id","run_id"/);
    expect(lines[1]).toContain('"820000000000000001 820000000000000002"');
    expect(lines[1]).toContain('"Guildhall role sync: +820000000000000002 ""quoted"""');
  });

  it("neutralizes cells a spreadsheet would run as formulas", () => {
    const csv = auditCsv([{ ...entry, nickAfter: '=HYPERLINK("x")', discordMessage: "@everyone" }]);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).toContain(`"'@everyone"`);
  });
});
