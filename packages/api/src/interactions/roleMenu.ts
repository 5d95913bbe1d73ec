/**
 * A member's pick in a role menu (a string select, `custom_id` `rolemenu:<menu id>`): the choice
 * goes to Guildhall (`services.chooseFromRoleMenu`), which plans, applies and audits it, and the
 * member gets an ephemeral reply saying what changed and what was refused and why. Transport-agnostic
 * (see ./registry.ts); slower than the deadline, the answer is an ephemeral deferral (type 5,
 * flag 64) and the reply an edit of it.
 * https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-type
 */
import { ephemeral, type InteractionResponse } from "./payload";
import type { ComponentContext, ComponentHandler } from "./registry";

/** The `custom_id` prefix of a role menu's select (the server's `ROLE_MENU_PREFIX`). */
export const ROLE_MENU_CUSTOM_ID = "rolemenu";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SNOWFLAKE = /^[1-9]\d{0,19}$/;

const run = async ({ interaction, data, services }: ComponentContext): Promise<InteractionResponse> => {
  const guildId = interaction.guild_id;
  const member = interaction.member;
  if (guildId === undefined || member === undefined) return ephemeral("Role menus work in a guild only.");
  const menuId = data.custom_id.slice(ROLE_MENU_CUSTOM_ID.length + 1);
  if (!UUID.test(menuId)) return ephemeral("This role menu is not one of Guildhall's; ask an admin for a new one.");
  const values = (data.values ?? []).filter((v) => SNOWFLAKE.test(v));
  try {
    const answer = await services.chooseFromRoleMenu({
      menuId,
      guildId,
      userId: member.user.id,
      memberRoles: member.roles,
      values,
    });
    return ephemeral(answer.content);
  } catch (error) {
    services.log(
      "Error",
      `role menu ${menuId}: the choice of ${member.user.id} could not be made: ${error instanceof Error ? error.message : String(error)}`,
    );
    return ephemeral("Your roles could not be changed; Guildhall's log says why. Try again in a moment.");
  }
};

/** The role menu handler: the choice made through Guildhall, an ephemeral reply (deferred ephemerally when slow). */
export const roleMenu: ComponentHandler = { ephemeral: true, run };
