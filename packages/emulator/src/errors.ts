/**
 * Error thrown by the emulator's programmatic API; `status` is the HTTP status the control API
 * answers with (400 bad input, 403 not allowed, 404 unknown guild/member/interaction, 409 conflict).
 */
export class EmulatorError extends Error {
  override readonly name = "EmulatorError";

  constructor(
    readonly status: 400 | 403 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}
