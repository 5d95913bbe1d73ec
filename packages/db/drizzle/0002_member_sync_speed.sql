-- Member sync at scale (issue 3). The chunk rows now carry what each chunk changed and who it
-- carried, so chunks never update the run row (no waiting on one another) and `complete` finds
-- absent members with one anti-join; member_sync_seen (one row per member per run) goes.
DROP TABLE "member_sync_seen" CASCADE;--> statement-breakpoint
ALTER TABLE "member_sync_chunks" ADD COLUMN "chunk_count" integer;--> statement-breakpoint
ALTER TABLE "member_sync_chunks" ADD COLUMN "created" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "member_sync_chunks" ADD COLUMN "updated" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "member_sync_chunks" ADD COLUMN "rejoined" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "member_sync_chunks" ADD COLUMN "user_ids" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "member_sync_chunks" ADD COLUMN "applied_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
-- Inserts no longer check guilds per row (see schema.ts); the trigger keeps the cascade.
ALTER TABLE "guild_members" DROP CONSTRAINT "guild_members_guild_id_guilds_id_fk";--> statement-breakpoint
CREATE FUNCTION "guilds_delete_members"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM guild_members WHERE guild_id = OLD.id;
  DELETE FROM guild_membership_history WHERE guild_id = OLD.id;
  RETURN OLD;
END $$;--> statement-breakpoint
CREATE TRIGGER "guilds_delete_members" AFTER DELETE ON "guilds" FOR EACH ROW EXECUTE FUNCTION "guilds_delete_members"();--> statement-breakpoint
DROP INDEX "guild_members_present_idx";--> statement-breakpoint
CREATE INDEX "guild_members_left_idx" ON "guild_members" USING btree ("guild_id") WHERE date_left is not null;--> statement-breakpoint
-- The history keeps ended stays only; an open stay becomes the member row's stay_started_at.
ALTER TABLE "guild_members" ADD COLUMN "stay_started_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
UPDATE "guild_members" m SET "stay_started_at" = h."first_seen_at"
  FROM "guild_membership_history" h
  WHERE h."guild_id" = m."guild_id" AND h."user_id" = m."user_id" AND h."left_at" IS NULL;--> statement-breakpoint
DELETE FROM "guild_membership_history" WHERE "left_at" IS NULL;--> statement-breakpoint
ALTER TABLE "guild_membership_history" ALTER COLUMN "left_at" SET NOT NULL;
