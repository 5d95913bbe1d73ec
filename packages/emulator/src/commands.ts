/**
 * Application commands: what `/applications/{id}/commands` and `/applications/{id}/guilds/{g}/commands`
 * store, with Discord's validation (50035 Invalid Form Body naming the field).
 * https://discord.com/developers/docs/interactions/application-commands
 */
import type { APIApplicationCommand, APIApplicationCommandOption } from "discord-api-types/v10";
import { ApplicationCommandType, ApplicationCommandOptionType as OptionType } from "discord-api-types/v10";
import { DiscordHttpError, FormErrors } from "./discorderrors";
import { newSnowflake } from "./snowflake";

/** CHAT_INPUT command and option names (docs: "Application Command Naming"), with the unicode flag. */
const CHAT_INPUT_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const MAX_OPTIONS = 25;
const MAX_CHOICES = 25;
/** Per scope: 100 CHAT_INPUT, 15 USER, 15 MESSAGE commands. */
const MAX_COMMANDS: Record<number, number> = { 1: 100, 2: 15, 3: 15 };

/** A command as stored; `json` is the ApplicationCommand object Discord answers with. */
export interface StoredCommand {
  id: string;
  guildId: string | null;
  type: ApplicationCommandType;
  name: string;
  /** The ApplicationCommand object (https://discord.com/developers/docs/interactions/application-commands#application-command-object). */
  json: APIApplicationCommand;
  /** The validated input fields, compared to decide whether an overwrite bumps `version`. */
  content: string;
}

type Input = Record<string, unknown>;

function isObject(value: unknown): value is Input {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const LEAF_TYPES = new Set<number>([
  OptionType.String,
  OptionType.Integer,
  OptionType.Boolean,
  OptionType.User,
  OptionType.Channel,
  OptionType.Role,
  OptionType.Mentionable,
  OptionType.Number,
  OptionType.Attachment,
]);

/** Validates a name/description pair of a CHAT_INPUT command or option into `errors`. */
function checkNameDescription(errors: FormErrors, path: ReadonlyArray<string | number>, o: Input, chatInput: boolean): void {
  const { name, description } = o;
  if (name === undefined) errors.add([...path, "name"], "BASE_TYPE_REQUIRED", "This field is required");
  else if (typeof name !== "string") errors.add([...path, "name"], "BASE_TYPE_STRING", "Must be a string.");
  else if (name.length < 1 || name.length > 32)
    errors.add([...path, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.");
  else if (chatInput && (!CHAT_INPUT_NAME.test(name) || name !== name.toLowerCase())) {
    errors.add([...path, "name"], "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid");
  }
  if (chatInput) {
    if (description === undefined) errors.add([...path, "description"], "BASE_TYPE_REQUIRED", "This field is required");
    else if (typeof description !== "string") errors.add([...path, "description"], "BASE_TYPE_STRING", "Must be a string.");
    else if (description.length < 1 || description.length > 100) {
      errors.add([...path, "description"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
    }
  } else if (description !== undefined && description !== "") {
    errors.add(
      [...path, "description"],
      "APPLICATION_COMMAND_INVALID_DESCRIPTION",
      "Description must be empty for user and message commands",
    );
  }
}

function localizations(
  errors: FormErrors,
  path: ReadonlyArray<string | number>,
  value: unknown,
): Record<string, string> | null | undefined {
  if (value === undefined || value === null) return value;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) {
    errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
    return undefined;
  }
  return value as Record<string, string>;
}

/** Validates and normalises an options array (command level, group level or subcommand level). */
function checkOptions(
  errors: FormErrors,
  path: ReadonlyArray<string | number>,
  value: unknown,
  level: "command" | "group" | "subcommand",
): APIApplicationCommandOption[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.");
    return undefined;
  }
  if (value.length > MAX_OPTIONS) errors.add(path, "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_OPTIONS} or fewer in length.`);
  const out: APIApplicationCommandOption[] = [];
  const names = new Set<string>();
  let sawOptional = false;
  value.forEach((raw: unknown, i: number) => {
    const p = [...path, i];
    if (!isObject(raw)) {
      errors.add(p, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
      return;
    }
    const type = raw.type;
    const allowed =
      level === "group"
        ? [OptionType.Subcommand]
        : level === "subcommand"
          ? [...LEAF_TYPES]
          : [OptionType.Subcommand, OptionType.SubcommandGroup, ...LEAF_TYPES];
    if (typeof type !== "number" || !allowed.includes(type)) {
      errors.add([...p, "type"], "BASE_TYPE_CHOICES", `Value must be one of {${allowed.join(", ")}}.`);
      return;
    }
    checkNameDescription(errors, p, raw, true);
    if (typeof raw.name === "string") {
      if (names.has(raw.name)) errors.add([...p, "name"], "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option name already exists");
      names.add(raw.name);
    }
    const option: Record<string, unknown> = { type, name: raw.name, description: raw.description };
    const nameLoc = localizations(errors, [...p, "name_localizations"], raw.name_localizations);
    const descLoc = localizations(errors, [...p, "description_localizations"], raw.description_localizations);
    if (nameLoc) option.name_localizations = nameLoc;
    if (descLoc) option.description_localizations = descLoc;

    if (type === OptionType.Subcommand || type === OptionType.SubcommandGroup) {
      const nested = checkOptions(errors, [...p, "options"], raw.options, type === OptionType.SubcommandGroup ? "group" : "subcommand");
      if (nested) option.options = nested;
      else if (type === OptionType.SubcommandGroup) errors.add([...p, "options"], "BASE_TYPE_REQUIRED", "This field is required");
      out.push(option as unknown as APIApplicationCommandOption);
      return;
    }
    if (raw.required !== undefined && typeof raw.required !== "boolean")
      errors.add([...p, "required"], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
    if (raw.required === true) {
      if (sawOptional)
        errors.add(
          [...p, "required"],
          "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
          "Required options must be placed before non-required options",
        );
      option.required = true;
    } else sawOptional = true;
    if (raw.choices !== undefined) {
      if (type !== OptionType.String && type !== OptionType.Integer && type !== OptionType.Number) {
        errors.add(
          [...p, "choices"],
          "APPLICATION_COMMAND_OPTION_CHOICES_INVALID",
          "Choices are only allowed on string, integer and number options",
        );
      } else if (!Array.isArray(raw.choices) || raw.choices.length > MAX_CHOICES) {
        errors.add([...p, "choices"], "BASE_TYPE_MAX_LENGTH", `Must be ${MAX_CHOICES} or fewer in length.`);
      } else {
        raw.choices.forEach((c: unknown, k: number) => {
          const cp = [...p, "choices", k];
          if (!isObject(c)) {
            errors.add(cp, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
            return;
          }
          if (typeof c.name !== "string" || c.name.length < 1 || c.name.length > 100)
            errors.add([...cp, "name"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.");
          const ok =
            type === OptionType.String
              ? typeof c.value === "string" && c.value.length <= 100
              : type === OptionType.Integer
                ? Number.isInteger(c.value)
                : typeof c.value === "number" && Number.isFinite(c.value);
          if (!ok) errors.add([...cp, "value"], "BASE_TYPE_CHOICES", "Value does not match the option type");
        });
        option.choices = raw.choices;
      }
    }
    for (const key of ["min_value", "max_value"] as const) {
      if (raw[key] === undefined) continue;
      if ((type !== OptionType.Integer && type !== OptionType.Number) || typeof raw[key] !== "number")
        errors.add([...p, key], "NUMBER_TYPE_COERCE", "Only integer and number options take a numeric limit");
      else option[key] = raw[key];
    }
    for (const key of ["min_length", "max_length"] as const) {
      if (raw[key] === undefined) continue;
      const n = raw[key];
      if (type !== OptionType.String || !Number.isInteger(n) || (n as number) < 0 || (n as number) > 6000)
        errors.add([...p, key], "NUMBER_TYPE_MAX", "Must be an integer between 0 and 6000 on a string option");
      else option[key] = n;
    }
    if (raw.channel_types !== undefined) {
      if (type !== OptionType.Channel || !Array.isArray(raw.channel_types) || !raw.channel_types.every((t) => Number.isInteger(t))) {
        errors.add([...p, "channel_types"], "BASE_TYPE_ARRAY", "Must be an array of channel types on a channel option.");
      } else option.channel_types = raw.channel_types;
    }
    if (raw.autocomplete !== undefined) {
      if (typeof raw.autocomplete !== "boolean") errors.add([...p, "autocomplete"], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
      else if (raw.autocomplete && option.choices)
        errors.add([...p, "autocomplete"], "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID", "Autocomplete can not be used with choices");
      else if (raw.autocomplete) option.autocomplete = true;
    }
    out.push(option as unknown as APIApplicationCommandOption);
  });
  if (
    level === "command" &&
    out.some((o) => o.type === OptionType.Subcommand || o.type === OptionType.SubcommandGroup) &&
    out.some((o) => LEAF_TYPES.has(o.type))
  ) {
    errors.add(path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommands and subcommand groups can not be mixed with other options");
  }
  return out;
}

/** The validated, normalised fields of one command input. */
interface CommandFields {
  type: ApplicationCommandType;
  name: string;
  description: string;
  nameLocalizations: Record<string, string> | null | undefined;
  descriptionLocalizations: Record<string, string> | null | undefined;
  options: APIApplicationCommandOption[] | undefined;
  defaultMemberPermissions: string | null;
  dmPermission: boolean;
  contexts: number[] | null;
  integrationTypes: number[];
  nsfw: boolean;
}

/** Validates one ApplicationCommand create/overwrite input; errors go into `errors` under `path`. */
function checkCommand(errors: FormErrors, path: ReadonlyArray<string | number>, raw: unknown, global: boolean): CommandFields | undefined {
  if (!isObject(raw)) {
    errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
    return undefined;
  }
  const type = raw.type === undefined ? ApplicationCommandType.ChatInput : raw.type;
  if (type !== ApplicationCommandType.ChatInput && type !== ApplicationCommandType.User && type !== ApplicationCommandType.Message) {
    errors.add([...path, "type"], "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.");
    return undefined;
  }
  const chatInput = type === ApplicationCommandType.ChatInput;
  checkNameDescription(errors, path, raw, chatInput);
  const options = chatInput ? checkOptions(errors, [...path, "options"], raw.options, "command") : undefined;
  if (!chatInput && raw.options !== undefined && raw.options !== null)
    errors.add([...path, "options"], "APPLICATION_COMMAND_OPTIONS_INVALID", "Only chat input commands take options");

  let defaultMemberPermissions: string | null = null;
  const dmp = raw.default_member_permissions;
  if (typeof dmp === "string" && /^[0-9]{1,20}$/.test(dmp) /* a permission bitfield, not an id */)
    defaultMemberPermissions = String(BigInt(dmp));
  else if (typeof dmp === "number" && Number.isInteger(dmp) && dmp >= 0) defaultMemberPermissions = String(dmp);
  else if (dmp !== undefined && dmp !== null)
    errors.add([...path, "default_member_permissions"], "NUMBER_TYPE_COERCE", `Value "${String(dmp)}" is not snowflake.`);

  if (raw.dm_permission !== undefined && raw.dm_permission !== null && typeof raw.dm_permission !== "boolean") {
    errors.add([...path, "dm_permission"], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
  }
  let contexts: number[] | null = null;
  if (raw.contexts !== undefined && raw.contexts !== null) {
    if (!Array.isArray(raw.contexts) || !raw.contexts.every((c) => c === 0 || c === 1 || c === 2))
      errors.add([...path, "contexts"], "BASE_TYPE_CHOICES", "Value must be one of {0, 1, 2}.");
    else contexts = [...new Set(raw.contexts as number[])];
  }
  let integrationTypes = [0];
  if (raw.integration_types !== undefined && raw.integration_types !== null) {
    if (!Array.isArray(raw.integration_types) || !raw.integration_types.every((c) => c === 0 || c === 1))
      errors.add([...path, "integration_types"], "BASE_TYPE_CHOICES", "Value must be one of {0, 1}.");
    else integrationTypes = [...new Set(raw.integration_types as number[])];
  }
  if (raw.nsfw !== undefined && raw.nsfw !== null && typeof raw.nsfw !== "boolean")
    errors.add([...path, "nsfw"], "BASE_TYPE_BOOLEAN", "Must be either true or false.");
  const nameLocalizations = localizations(errors, [...path, "name_localizations"], raw.name_localizations);
  const descriptionLocalizations = localizations(errors, [...path, "description_localizations"], raw.description_localizations);
  if (typeof raw.name !== "string") return undefined;
  return {
    type,
    name: raw.name,
    description: typeof raw.description === "string" ? raw.description : "",
    nameLocalizations,
    descriptionLocalizations,
    options,
    defaultMemberPermissions,
    dmPermission: raw.dm_permission !== false,
    // Global commands default to every context; contexts only apply to global commands.
    contexts: global ? (contexts ?? [0, 1, 2]) : null,
    integrationTypes,
    nsfw: raw.nsfw === true,
  };
}

/** Stores the application's global and per-guild commands. */
export class CommandStore {
  private readonly scopes = new Map<string, StoredCommand[]>();

  constructor(private readonly applicationId: string) {}

  private scope(guildId: string | null): StoredCommand[] {
    const key = guildId ?? "global";
    let list = this.scopes.get(key);
    if (!list) {
      list = [];
      this.scopes.set(key, list);
    }
    return list;
  }

  /** The commands of a scope (null = global), in creation order. */
  list(guildId: string | null): StoredCommand[] {
    return [...this.scope(guildId)];
  }

  /** A command by id in a scope. */
  get(guildId: string | null, commandId: string): StoredCommand | undefined {
    return this.scope(guildId).find((c) => c.id === commandId);
  }

  /**
   * The CHAT_INPUT command named `name` a member of `guildId` would run: the guild's own first,
   * then a global one.
   */
  find(guildId: string, name: string): StoredCommand | undefined {
    const match = (c: StoredCommand) => c.name === name && c.type === ApplicationCommandType.ChatInput;
    return this.scope(guildId).find(match) ?? this.scope(null).find(match);
  }

  private build(fields: CommandFields, guildId: string | null, previous: StoredCommand | undefined): StoredCommand {
    const content = JSON.stringify(fields);
    const id = previous?.id ?? newSnowflake();
    const version = previous && previous.content === content ? previous.json.version : newSnowflake();
    const json: Record<string, unknown> = {
      id,
      application_id: this.applicationId,
      version,
      default_member_permissions: fields.defaultMemberPermissions,
      type: fields.type,
      name: fields.name,
      description: fields.description,
    };
    if (fields.nameLocalizations) json.name_localizations = fields.nameLocalizations;
    if (fields.descriptionLocalizations) json.description_localizations = fields.descriptionLocalizations;
    if (guildId !== null) json.guild_id = guildId;
    else json.dm_permission = fields.dmPermission;
    json.contexts = fields.contexts;
    json.integration_types = fields.integrationTypes;
    if (fields.options && fields.options.length > 0) json.options = fields.options;
    json.nsfw = fields.nsfw;
    return { id, guildId, type: fields.type, name: fields.name, json: json as unknown as APIApplicationCommand, content };
  }

  /**
   * Create Application Command (POST): a command with the same name and type is overwritten (same id).
   * Returns the command and whether it is new (Discord answers 201 then, 200 otherwise).
   * Throws DiscordHttpError 400/50035 on invalid input, 400/30032 past the per-scope maximum.
   */
  create(guildId: string | null, raw: unknown): { command: StoredCommand; created: boolean } {
    const errors = new FormErrors();
    const fields = checkCommand(errors, [], raw, guildId === null);
    errors.throwIfAny();
    const f = fields as CommandFields;
    const list = this.scope(guildId);
    const index = list.findIndex((c) => c.name === f.name && c.type === f.type);
    if (index < 0 && list.filter((c) => c.type === f.type).length >= (MAX_COMMANDS[f.type] ?? 100)) {
      throw new DiscordHttpError(400, 30032, `Maximum number of application commands reached (${MAX_COMMANDS[f.type] ?? 100})`);
    }
    const command = this.build(f, guildId, index < 0 ? undefined : list[index]);
    if (index < 0) list.push(command);
    else list[index] = command;
    return { command, created: index < 0 };
  }

  /**
   * Bulk Overwrite (PUT): the list becomes exactly `raw`; commands whose name and type already
   * existed keep their id (and version, when unchanged). Throws 400/50035 naming `<index>.<field>`.
   */
  overwrite(guildId: string | null, raw: unknown): StoredCommand[] {
    const errors = new FormErrors();
    if (!Array.isArray(raw)) {
      errors.add([], "BASE_TYPE_ARRAY", "Must be an array.");
      errors.throwIfAny();
    }
    const inputs = raw as unknown[];
    const fields = inputs.map((item, i) => checkCommand(errors, [i], item, guildId === null));
    const seen = new Set<string>();
    fields.forEach((f, i) => {
      if (!f) return;
      const key = `${f.type}:${f.name}`;
      if (seen.has(key)) errors.add([i, "name"], "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique");
      seen.add(key);
    });
    for (const [type, max] of Object.entries(MAX_COMMANDS)) {
      if (fields.filter((f) => f?.type === Number(type)).length > max)
        errors.add([], "BASE_TYPE_MAX_LENGTH", `Must be ${max} or fewer commands of type ${type}.`);
    }
    errors.throwIfAny();
    const previous = this.scope(guildId);
    const next = (fields as CommandFields[]).map((f) =>
      this.build(
        f,
        guildId,
        previous.find((c) => c.name === f.name && c.type === f.type),
      ),
    );
    this.scopes.set(guildId ?? "global", next);
    return [...next];
  }

  /** Edit Application Command (PATCH): merges the given fields into the stored command. Throws 404/10063 or 400/50035. */
  edit(guildId: string | null, commandId: string, raw: unknown): StoredCommand {
    const list = this.scope(guildId);
    const index = list.findIndex((c) => c.id === commandId);
    const current = list[index];
    if (!current) throw unknownCommand();
    if (!isObject(raw)) {
      const errors = new FormErrors();
      errors.add([], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
      errors.throwIfAny();
    }
    const merged = { ...(current.json as unknown as Input), ...(raw as Input), type: current.type };
    const errors = new FormErrors();
    const fields = checkCommand(errors, [], merged, guildId === null);
    errors.throwIfAny();
    const command = this.build(fields as CommandFields, guildId, current);
    list[index] = command;
    return command;
  }

  /** Delete Application Command; throws 404/10063 for an unknown id. */
  delete(guildId: string | null, commandId: string): void {
    const list = this.scope(guildId);
    const index = list.findIndex((c) => c.id === commandId);
    if (index < 0) throw unknownCommand();
    list.splice(index, 1);
  }
}

/** 404 / 10063 Unknown application command. */
export function unknownCommand(): DiscordHttpError {
  return new DiscordHttpError(404, 10063, "Unknown application command");
}
