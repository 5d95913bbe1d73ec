/**
 * Every procedure of a tRPC router, with its type and the arbitraries of its input: the list the
 * router fuzz walks, built from the router itself so that a procedure added later is walked
 * without anyone editing the harness.
 *
 * A procedure's input schemas are in `_def.inputs`: what `.input(...)` was given. Guildhall gives
 * `Schema.toStandardSchemaV1(schema)`, which keeps the schema's `ast`; that is what the
 * arbitraries come from. An input without an Effect AST (another validator library), or with a
 * node the derivation does not know, is recorded as a {@link DerivationError} for the test to fail on.
 */
import { SchemaAST as AST } from "effect";
import fc from "fast-check";
import { DerivationError, type Derived, type DeriveOptions, derive } from "./arbitrary";
import { hostileAny, hostileAnyPick } from "./hostile";

/** The kinds of procedure tRPC has; anything else fails the walk. */
export const PROCEDURE_TYPES = ["query", "mutation", "subscription"] as const;
export type ProcedureType = (typeof PROCEDURE_TYPES)[number];

/** One procedure to walk. `input` is the derivation, or why there is none. */
export interface ProcedureEntry {
  /** Dotted path, e.g. `members.comparison`. */
  readonly path: string;
  /** The router it belongs to (the path's first segment): its family for the known-good checks. */
  readonly family: string;
  /** As tRPC declares it; checked against {@link PROCEDURE_TYPES} by the walk. */
  readonly type: string;
  readonly input: Derived | DerivationError;
  /** The input schemas' ASTs, for deciding whether a generated value was valid (empty: no input). */
  readonly asts: ReadonlyArray<AST.AST>;
}

/** What this module reads of a tRPC router (its public `_def`; no tRPC import needed). */
export interface RouterLike {
  readonly _def: { readonly procedures: Readonly<Record<string, unknown>> };
}

interface ProcedureDef {
  readonly type?: unknown;
  readonly inputs?: ReadonlyArray<unknown>;
}

const noInput: Derived = { valid: fc.constant(undefined), mixed: hostileAny, slots: () => [{ path: [], hostile: hostileAnyPick }] };

const inputOfProcedure = (
  path: string,
  inputs: ReadonlyArray<unknown>,
  options: DeriveOptions,
): { input: Derived | DerivationError; asts: Array<AST.AST> } => {
  const asts: Array<AST.AST> = [];
  for (const [i, input] of inputs.entries()) {
    const ast = (input as { ast?: unknown } | null)?.ast;
    if (!AST.isAST(ast)) {
      return {
        input: new DerivationError(
          "input",
          `${path} input ${i}`,
          "not an Effect Schema (no AST): wrap it with Schema.toStandardSchemaV1(...)",
        ),
        asts,
      };
    }
    asts.push(ast);
  }
  try {
    if (asts.length === 0) return { input: noInput, asts };
    if (asts.length === 1) return { input: derive(asts[0]!, options), asts };
    // Several `.input()` calls: tRPC merges object inputs, and so does this.
    if (!asts.every((ast) => ast._tag === "Objects")) {
      return { input: new DerivationError("input", path, "several inputs that are not all objects"), asts };
    }
    const parts = asts.map((ast) => derive(ast, options));
    const merge = (pick: (d: Derived) => fc.Arbitrary<unknown>) =>
      fc.tuple(...parts.map(pick)).map((values) => Object.assign({}, ...values.map((v) => (typeof v === "object" && v !== null ? v : {}))));
    const slots = (value: unknown) => parts.flatMap((part) => part.slots(value));
    return { input: { valid: merge((d) => d.valid), mixed: merge((d) => d.mixed), slots }, asts };
  } catch (error) {
    if (error instanceof DerivationError) return { input: error, asts };
    throw error;
  }
};

/** Every procedure of `router`, sorted by path, with its input's arbitraries (or the DerivationError). */
export const proceduresOf = (router: RouterLike, options: DeriveOptions = {}): ReadonlyArray<ProcedureEntry> =>
  Object.entries(router._def.procedures)
    .map(([path, procedure]) => {
      const def = ((procedure as { _def?: ProcedureDef })._def ?? {}) as ProcedureDef;
      const { input, asts } = inputOfProcedure(path, def.inputs ?? [], options);
      return { path, family: path.split(".")[0] ?? path, type: String(def.type), input, asts };
    })
    .sort((a, b) => a.path.localeCompare(b.path));
