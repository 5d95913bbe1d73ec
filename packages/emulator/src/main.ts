/**
 * Standalone emulator (`npm run emulator`): EMULATOR_PORT (default 3001), the demo guild
 * (seed 1, 500 members, 25 staff) and staff-weighted presence churn at about 2 updates/s.
 */
import { readEmulatorEnv } from "./env";
import { DEMO_GUILD, startEmulator } from "./index";

const { port } = (() => {
  try {
    return readEmulatorEnv();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
})();

const emulator = await startEmulator({ port, log: (line) => console.log(`[emulator] ${line}`) });
const guild = emulator.seedGuild({ ...DEMO_GUILD, name: "Guildhall Demo" });
// Half the updates hit the 25 staff so someone watching the staff roster sees it move.
emulator.startChurn(guild.guildId, { updatesPerSecond: 2, staffShare: 0.5 });

console.log(`Discord emulator ready
  REST     ${emulator.apiUrl}
  CDN      ${emulator.cdnUrl}
  gateway  ${emulator.gatewayUrl}
  control  ${emulator.url}/_emulator
  OAuth2   ${emulator.url}/oauth2/authorize (client secret: GET /_emulator/oauth2)
  app id   ${emulator.applicationId}
  key      ${emulator.publicKey}
  token    ${emulator.token}
  guild    ${guild.guildId} "${guild.name}" (${guild.memberCount} members, ${guild.staff.length} staff)`);

const stop = () => {
  void emulator.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
