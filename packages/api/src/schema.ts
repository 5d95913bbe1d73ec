import { Schema } from "effect";

/** A resume cursor: the id of the last item a subscriber saw, as tRPC's `tracked()` sends it back. */
export const Cursor = Schema.String.check(Schema.isPattern(/^[0-9]{1,18}$/, { message: "must be a cursor: digits only" }));

/** Reads an optional cursor string as a number; null when absent. */
export const cursorOf = (value: string | null | undefined): number | null => (value ? Number(value) : null);
