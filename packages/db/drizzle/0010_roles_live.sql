CREATE TABLE "group_member_changes" (
	"group_id" text NOT NULL,
	"user_id" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "group_member_changes_group_id_user_id_pk" PRIMARY KEY("group_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "role_guild_settings" (
	"guild_id" text PRIMARY KEY NOT NULL,
	"verify_enabled" boolean DEFAULT true NOT NULL,
	"verify_minutes" integer DEFAULT 5 NOT NULL,
	"hard_check_enabled" boolean DEFAULT true NOT NULL,
	"max_flips" integer DEFAULT 6 NOT NULL,
	"discord_state" jsonb,
	"discord_state_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "role_member_states" (
	"guild_id" text NOT NULL,
	"user_id" text NOT NULL,
	"known_role_ids" text[],
	"expected_role_ids" text[],
	"role_changed_at" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"flips" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"flagged_at" timestamp with time zone,
	"flag_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "role_member_states_guild_id_user_id_pk" PRIMARY KEY("guild_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "reconciliation_runs" ADD COLUMN "mode" text DEFAULT 'apply' NOT NULL;--> statement-breakpoint
ALTER TABLE "reconciliation_runs" ADD COLUMN "nicknames" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "group_member_changes" ADD CONSTRAINT "group_member_changes_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_member_changes" ADD CONSTRAINT "group_member_changes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_guild_settings" ADD CONSTRAINT "role_guild_settings_guild_id_guilds_id_fk" FOREIGN KEY ("guild_id") REFERENCES "public"."guilds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "role_member_states" ADD CONSTRAINT "role_member_states_guild_id_guilds_id_fk" FOREIGN KEY ("guild_id") REFERENCES "public"."guilds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "role_member_states_flagged_idx" ON "role_member_states" USING btree ("guild_id") WHERE flagged_at is not null;