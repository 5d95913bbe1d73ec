import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readLauncherEnv } from "../env";

describe("readLauncherEnv: the bot's state directory under npm start", () => {
  it("keeps the bot's undelivered updates under the data dir by default", () => {
    expect(readLauncherEnv({}).botStateDir).toBe(join(".guildhall", "bot"));
    expect(readLauncherEnv({ GUILDHALL_DATA_DIR: "/var/lib/guildhall" }).botStateDir).toBe("/var/lib/guildhall/bot");
  });

  it("keeps nothing when the data lives in memory", () => {
    expect(readLauncherEnv({ GUILDHALL_DATA_DIR: "memory://" }).botStateDir).toBeUndefined();
  });

  it("takes GUILDHALL_BOT_STATE_DIR when set", () => {
    expect(readLauncherEnv({ GUILDHALL_DATA_DIR: "memory://", GUILDHALL_BOT_STATE_DIR: "/srv/bot" }).botStateDir).toBe("/srv/bot");
  });
});
