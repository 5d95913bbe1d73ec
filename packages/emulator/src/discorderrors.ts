/**
 * Discord's HTTP error bodies: `{code, message, errors?}` where `errors` nests field paths down to
 * `_errors: [{code, message}]` (https://discord.com/developers/docs/reference#error-messages).
 */

/** A REST failure the emulator answers with Discord's status, JSON error code and message. */
export class DiscordHttpError extends Error {
  override readonly name = "DiscordHttpError";

  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly errors?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The JSON body Discord sends. */
  body(): { message: string; code: number; errors?: Record<string, unknown> } {
    return this.errors ? { message: this.message, code: this.code, errors: this.errors } : { message: this.message, code: this.code };
  }
}

/** Collects field errors for a 50035 Invalid Form Body answer. */
export class FormErrors {
  private readonly root: Record<string, unknown> = {};
  private count = 0;

  /** Records an error at `path` (object keys and array indices), e.g. (["options", 0, "name"], "BASE_TYPE_REQUIRED", ...). */
  add(path: ReadonlyArray<string | number>, code: string, message: string): void {
    let node = this.root;
    for (const key of path) {
      const k = String(key);
      node[k] ??= {};
      node = node[k] as Record<string, unknown>;
    }
    node._errors ??= [];
    (node._errors as Array<{ code: string; message: string }>).push({ code, message });
    this.count += 1;
  }

  /** True when nothing was recorded. */
  get empty(): boolean {
    return this.count === 0;
  }

  /** Throws 400 / 50035 "Invalid Form Body" with the collected errors, if any. */
  throwIfAny(): void {
    if (this.count > 0) throw new DiscordHttpError(400, 50035, "Invalid Form Body", this.root);
  }
}

/** Throws a 50035 for a single field. */
export function invalidField(path: ReadonlyArray<string | number>, code: string, message: string): never {
  const errors = new FormErrors();
  errors.add(path, code, message);
  errors.throwIfAny();
  throw new Error("unreachable");
}
