CREATE TABLE "guild_membership_history" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "guild_membership_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"guild_id" text NOT NULL,
	"user_id" text NOT NULL,
	"joined_at" timestamp with time zone,
	"first_seen_at" timestamp with time zone NOT NULL,
	"left_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "guild_roles" (
	"guild_id" text NOT NULL,
	"id" text NOT NULL,
	"name" text NOT NULL,
	"color" integer DEFAULT 0 NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"managed" boolean DEFAULT false NOT NULL,
	"permissions" text DEFAULT '0' NOT NULL,
	"date_created" timestamp with time zone DEFAULT now() NOT NULL,
	"date_modified" timestamp with time zone DEFAULT now() NOT NULL,
	"date_deleted" timestamp with time zone,
	CONSTRAINT "guild_roles_guild_id_id_pk" PRIMARY KEY("guild_id","id")
);
--> statement-breakpoint
CREATE TABLE "guild_settings" (
	"guild_id" text PRIMARY KEY NOT NULL,
	"sync_interval_minutes" integer,
	"sync_admin_role_id" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "member_sync_chunks" (
	"run_id" text NOT NULL,
	"chunk_index" integer NOT NULL,
	"members" integer NOT NULL,
	CONSTRAINT "member_sync_chunks_run_id_chunk_index_pk" PRIMARY KEY("run_id","chunk_index")
);
--> statement-breakpoint
CREATE TABLE "member_sync_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"guild_id" text NOT NULL,
	"trigger" text NOT NULL,
	"source" text NOT NULL,
	"requested_by" text,
	"status" text DEFAULT 'running' NOT NULL,
	"nonce" text,
	"chunk_count" integer,
	"chunks_received" integer DEFAULT 0 NOT NULL,
	"rows_received" integer DEFAULT 0 NOT NULL,
	"created" integer DEFAULT 0 NOT NULL,
	"updated" integer DEFAULT 0 NOT NULL,
	"rejoined" integer DEFAULT 0 NOT NULL,
	"unchanged" integer DEFAULT 0 NOT NULL,
	"marked_left" integer DEFAULT 0 NOT NULL,
	"reason" text,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNLOGGED TABLE "member_sync_seen" (
	"run_id" text NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "member_sync_seen_run_id_user_id_pk" PRIMARY KEY("run_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "guild_roles" ADD CONSTRAINT "guild_roles_guild_id_guilds_id_fk" FOREIGN KEY ("guild_id") REFERENCES "public"."guilds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "guild_settings" ADD CONSTRAINT "guild_settings_guild_id_guilds_id_fk" FOREIGN KEY ("guild_id") REFERENCES "public"."guilds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "member_sync_chunks" ADD CONSTRAINT "member_sync_chunks_run_id_member_sync_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."member_sync_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "member_sync_runs" ADD CONSTRAINT "member_sync_runs_guild_id_guilds_id_fk" FOREIGN KEY ("guild_id") REFERENCES "public"."guilds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "membership_history_member_idx" ON "guild_membership_history" USING btree ("guild_id","user_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "member_sync_runs_one_running" ON "member_sync_runs" USING btree ("guild_id") WHERE status = 'running';--> statement-breakpoint
CREATE INDEX "member_sync_runs_guild_idx" ON "member_sync_runs" USING btree ("guild_id","started_at");--> statement-breakpoint
CREATE INDEX "guild_members_present_idx" ON "guild_members" USING btree ("guild_id","date_left");