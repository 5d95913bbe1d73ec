/** Input checks shared by the programmatic API and the control API; failures name the field. */
import { EmulatorError } from "./errors";
import { isSnowflake } from "./snowflake";

function fail(message: string): never {
  throw new EmulatorError(400, message);
}

/** Throws 400 unless `value` is a plain object; returns it typed as a record. */
export function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

/** An optional integer in [min, max]; `fallback` when undefined. */
export function int(value: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    fail(`${field} must be an integer between ${min} and ${max}`);
  }
  return value;
}

/** An optional finite number in [min, max]. */
export function num(value: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max)
    fail(`${field} must be a number between ${min} and ${max}`);
  return value;
}

/** An optional string of length [min, max]. */
export function str(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== "string" || value.length < min || value.length > max)
    fail(`${field} must be a string of ${min} to ${max} characters`);
  return value;
}

/** A string of length [min, max] or null. */
export function strOrNull(value: unknown, field: string, min: number, max: number): string | null {
  return value === null ? null : str(value, field, min, max);
}

/** A snowflake string. */
export function snowflake(value: unknown, field: string): string {
  if (!isSnowflake(value)) fail(`${field} must be a snowflake string`);
  return value;
}

/** A boolean. */
export function bool(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") fail(`${field} must be a boolean`);
  return value;
}

/** One of the given strings. */
export function oneOf<T extends string>(value: unknown, field: string, allowed: ReadonlyArray<T>): T {
  if (typeof value !== "string" || !(allowed as ReadonlyArray<string>).includes(value))
    fail(`${field} must be one of ${allowed.join(", ")}`);
  return value as T;
}

/** Throws 400 when `value` has keys outside `allowed` (catches typos such as "member" for "members"). */
export function onlyKeys(value: Record<string, unknown>, allowed: ReadonlyArray<string>, what: string): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) fail(`${what} has an unknown field ${key}`);
}

/** True for a plain JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
