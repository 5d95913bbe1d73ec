import { jsonEncoder } from "@trpc/server/adapters/ws";
import { describe, expect, it } from "vitest";
import { botKeyMatches } from "../src";
import { share, sharingJsonEncoder } from "../src/shared";

const envelope = (requestId: number, data: unknown) => ({
  id: requestId,
  jsonrpc: "2.0",
  result: { type: "data", id: "42", data },
});

describe("sharingJsonEncoder", () => {
  it("writes exactly what tRPC's JSON encoder writes, shared or not", () => {
    const event = share({ type: "presences", changes: [{ id: 42, userId: "1", customStatus: 'quote " and $& and $1' }] });
    const plain = { type: "presences", changes: [{ id: 7, userId: "2", customStatus: null }] };
    for (const data of [event, plain]) {
      for (const requestId of [1, 2]) {
        expect(sharingJsonEncoder.encode(envelope(requestId, data))).toBe(jsonEncoder.encode(envelope(requestId, data)));
      }
    }
  });

  it("serializes a shared value once, however many subscribers it goes to", () => {
    let reads = 0;
    const event = share({
      get changes() {
        reads++;
        return [1, 2, 3];
      },
    });
    for (let i = 0; i < 100; i++) sharingJsonEncoder.encode(envelope(i, event));
    expect(reads).toBe(1);
  });

  it("decodes JSON text frames and refuses binary ones", () => {
    expect(sharingJsonEncoder.decode('{"id":1}')).toEqual({ id: 1 });
    expect(() => sharingJsonEncoder.decode(new Uint8Array([1]))).toThrow(/JSON text frames/);
  });
});

describe("botKeyMatches", () => {
  it("accepts only the exact key, and never an empty or missing one", () => {
    const key = "0123456789abcdef0123456789";
    expect(botKeyMatches(key, key)).toBe(true);
    expect(botKeyMatches(`${key}x`, key)).toBe(false);
    expect(botKeyMatches(key.slice(1), key)).toBe(false);
    expect(botKeyMatches("", key)).toBe(false);
    expect(botKeyMatches(null, key)).toBe(false);
  });
});
