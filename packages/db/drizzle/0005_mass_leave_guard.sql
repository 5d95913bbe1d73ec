-- The mass-leave guard (issue 8): a completed snapshot that would mark more than a guild's share of
-- present members left is held (member_sync_runs.status 'awaiting_confirmation', a text column without
-- a CHECK, so the new statuses need no DDL) with its verdict in member_sync_pending_leaves, until an
-- admin confirms or discards it.
CREATE TABLE "member_sync_pending_leaves" (
	"run_id" text NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "member_sync_pending_leaves_run_id_user_id_pk" PRIMARY KEY("run_id","user_id")
);
--> statement-breakpoint
ALTER TABLE "guild_settings" ADD COLUMN "leave_guard_percent" integer DEFAULT 10 NOT NULL;--> statement-breakpoint
ALTER TABLE "member_sync_runs" ADD COLUMN "pending_left" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "member_sync_runs" ADD COLUMN "present_members" integer;--> statement-breakpoint
ALTER TABLE "member_sync_runs" ADD COLUMN "decided_by" text;--> statement-breakpoint
ALTER TABLE "member_sync_runs" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "member_sync_pending_leaves" ADD CONSTRAINT "member_sync_pending_leaves_run_id_member_sync_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."member_sync_runs"("id") ON DELETE cascade ON UPDATE no action;