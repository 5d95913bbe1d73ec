/**
 * Edit Current Application for what the emulator keeps: `interactions_endpoint_url`, validated as
 * Discord validates it (a signed PING answered with PONG, invalid signatures refused with 401); a URL
 * that fails is refused with 400 / 50035 and not saved. Other fields are accepted and ignored.
 * https://discord.com/developers/docs/resources/application#edit-current-application
 */
import type { InteractionEndpoint } from "../delivery";
import { isPlainObject } from "../validate";
import type { Route } from "./route";
import { invalidForm } from "./route";

/** What the application routes need. */
export interface ApplicationRoutesContext {
  readonly endpoint: InteractionEndpoint;
  /** The application object (GET /applications/@me). */
  application(): unknown;
}

/** The route table: PATCH /applications/@me. */
export function applicationRoutes(ctx: ApplicationRoutesContext): Route[] {
  return [
    {
      method: "PATCH",
      pattern: "/applications/@me",
      auth: true,
      handle: async ({ body }) => {
        if (!isPlainObject(body)) return invalidForm("_errors", "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType");
        if ("interactions_endpoint_url" in body) {
          const raw = body.interactions_endpoint_url;
          if (raw !== null && (typeof raw !== "string" || !/^https?:\/\//.test(raw)))
            return invalidForm("interactions_endpoint_url", "URL_TYPE_INVALID_URL", "Not a well formed URL.");
          const verdict = await ctx.endpoint.set(raw === "" ? null : (raw as string | null));
          if (!verdict.ok)
            return invalidForm(
              "interactions_endpoint_url",
              "APPLICATION_INTERACTIONS_ENDPOINT_URL_INVALID",
              "The specified interactions endpoint url could not be verified.",
            );
        }
        return { status: 200, body: ctx.application() };
      },
    },
  ];
}
