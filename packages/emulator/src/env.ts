/** The standalone emulator's configuration (`npm run emulator`): the one place this package reads `process.env`. */

/** Thrown when EMULATOR_PORT is not a port number. */
export class EmulatorEnvError extends Error {
  override readonly name = "EmulatorEnvError";
}

/** EMULATOR_PORT (default 3001; 0 picks a free port). Throws `EmulatorEnvError` naming the variable. */
export const readEmulatorEnv = (source: Record<string, string | undefined> = process.env): { readonly port: number } => {
  const raw = source.EMULATOR_PORT || "3001";
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65_535) throw new EmulatorEnvError(`EMULATOR_PORT must be a port number (0 to 65535), got ${raw}`);
  return { port };
};
