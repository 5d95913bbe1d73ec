/**
 * @guildhall/fuzz: what the fuzz harness shares between the router walk (apps/server), the REST
 * endpoints (apps/server) and the gateway payloads (apps/bot): fast-check arbitraries derived
 * from Effect Schemas with hostile values mixed in, the hostile values themselves, pools of
 * known ids, the list of a router's procedures, and short renderings for reports.
 * Test-only: no production code imports it.
 */
export { DerivationError, type Derived, type DeriveOptions, derive, inputOf, oneHostile, type Slot } from "./arbitrary";
export {
  DEEP,
  DEEP_ARRAY,
  DEEP_OBJECT,
  EXTRA_KEYS,
  HOSTILE_NUMBERS,
  HOSTILE_TEXT,
  type HostilePick,
  hostileAny,
  hostileAnyPick,
  hostileNumberPick,
  hostileOf,
  hostileStringPick,
  IMPOSSIBLE_DATES,
  MONSTERS,
  mutateString,
  NUMERIC_TEXT,
  ONE_MB,
  SNOWFLAKE_EDGES,
  WRONG_TYPES,
} from "./hostile";
export { EscapedErrors, heldNow, type InvariantOptions, leaks, type OpenState, openState, type Sql } from "./invariants";
export { fieldKey, type PoolKind, Pools } from "./pools";
export { PROCEDURE_TYPES, type ProcedureEntry, type ProcedureType, proceduresOf, type RouterLike } from "./procedures";
export { show } from "./show";
