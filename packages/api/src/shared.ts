/**
 * Serialize once, send many: a subscription event that many subscribers receive (the same
 * presence batch to every staff member watching a guild) is marked with `share`, and the
 * WebSocket encoder reuses its JSON instead of stringifying it again per subscriber.
 * A shared value must not be mutated after it is first sent.
 */
import type { Encoder } from "@trpc/server/adapters/ws";

const sharedValues = new WeakSet<object>();
const encoded = new WeakMap<object, string>();
const PLACEHOLDER = "__guildhall_shared_value__";
const QUOTED_PLACEHOLDER = JSON.stringify(PLACEHOLDER);

/** Marks `value` as sent unchanged to many subscribers; returns it. */
export const share = <T extends object>(value: T): T => {
  sharedValues.add(value);
  return value;
};

/**
 * tRPC's JSON wire format, with the JSON of shared values (see {@link share}) computed once.
 * Only the small per-subscriber envelope (request id, tracked id) is stringified each time.
 */
export const sharingJsonEncoder: Encoder = {
  encode(message) {
    let sharedJson: string | undefined;
    const envelope = JSON.stringify(message, (_key, value: unknown) => {
      if (sharedJson === undefined && typeof value === "object" && value !== null && sharedValues.has(value)) {
        sharedJson = encoded.get(value);
        if (sharedJson === undefined) {
          sharedJson = JSON.stringify(value);
          encoded.set(value, sharedJson);
        }
        return PLACEHOLDER;
      }
      return value;
    });
    return sharedJson === undefined ? envelope : envelope.replace(QUOTED_PLACEHOLDER, () => sharedJson!);
  },
  decode(data) {
    if (typeof data !== "string") throw new Error("Guildhall speaks JSON text frames only.");
    return JSON.parse(data);
  },
};
