/**
 * Discord's embed limits, checked on every message body that carries embeds (interaction responses,
 * follow-ups, channel messages, webhook executions): at most 10 embeds; title 256, description 4096,
 * 25 fields of name 256 and value 1024 (both required), footer text 2048, author name 256 characters;
 * and at most 6000 characters over all of those in all embeds of the message.
 * https://discord.com/developers/docs/resources/message#embed-object-embed-limits
 */
import type { FormErrors } from "./discorderrors";
import { isPlainObject } from "./validate";

/** Most embeds one message carries. */
export const MAX_EMBEDS = 10;
/** Most characters over every embed's title, description, field names and values, footer text and author name. */
export const MAX_EMBED_TOTAL = 6000;

const LIMITS = { title: 256, description: 4096, fieldName: 256, fieldValue: 1024, footer: 2048, author: 256, fields: 25 } as const;

/**
 * Records into `errors` (50035 paths such as `embeds.0.fields.3.value`) every limit `embeds` breaks.
 * `embeds` is already known to be an array of plain objects of at most {@link MAX_EMBEDS}.
 */
export function checkEmbeds(errors: FormErrors, embeds: ReadonlyArray<Record<string, unknown>>): void {
  let total = 0;
  const text = (path: Array<string | number>, value: unknown, max: number, required: boolean): void => {
    if (value === undefined || value === null) {
      if (required) errors.add(path, "BASE_TYPE_REQUIRED", "This field is required");
      return;
    }
    if (typeof value !== "string") {
      errors.add(path, "BASE_TYPE_STRING", "Must be a string.");
      return;
    }
    if (required && value.trim() === "") errors.add(path, "BASE_TYPE_REQUIRED", "This field is required");
    if (value.length > max) errors.add(path, "BASE_TYPE_MAX_LENGTH", `Must be ${max} or fewer in length.`);
    total += value.length;
  };
  embeds.forEach((embed, i) => {
    text(["embeds", i, "title"], embed.title, LIMITS.title, false);
    text(["embeds", i, "description"], embed.description, LIMITS.description, false);
    if (embed.fields !== undefined && embed.fields !== null) {
      if (!Array.isArray(embed.fields) || !embed.fields.every(isPlainObject)) {
        errors.add(["embeds", i, "fields"], "BASE_TYPE_ARRAY", "Must be an array of embed field objects.");
      } else {
        if (embed.fields.length > LIMITS.fields)
          errors.add(["embeds", i, "fields"], "BASE_TYPE_MAX_LENGTH", `Must be ${LIMITS.fields} or fewer in length.`);
        (embed.fields as Array<Record<string, unknown>>).forEach((field, k) => {
          text(["embeds", i, "fields", k, "name"], field.name, LIMITS.fieldName, true);
          text(["embeds", i, "fields", k, "value"], field.value, LIMITS.fieldValue, true);
        });
      }
    }
    if (isPlainObject(embed.footer)) text(["embeds", i, "footer", "text"], embed.footer.text, LIMITS.footer, true);
    if (isPlainObject(embed.author)) text(["embeds", i, "author", "name"], embed.author.name, LIMITS.author, true);
  });
  if (total > MAX_EMBED_TOTAL) errors.add(["embeds"], "MAX_EMBED_SIZE_EXCEEDED", `Embed size exceeds maximum size of ${MAX_EMBED_TOTAL}`);
}
