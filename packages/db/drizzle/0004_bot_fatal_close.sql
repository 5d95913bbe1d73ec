ALTER TABLE "bot_heartbeats" ADD COLUMN "fatal_code" integer;--> statement-breakpoint
ALTER TABLE "bot_heartbeats" ADD COLUMN "fatal_reason" text;