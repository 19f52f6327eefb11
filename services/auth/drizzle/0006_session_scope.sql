ALTER TABLE "auth"."memberships" ADD COLUMN "idp_first_name" text;--> statement-breakpoint
ALTER TABLE "auth"."memberships" ADD COLUMN "idp_last_name" text;--> statement-breakpoint
ALTER TABLE "auth"."sessions" ADD COLUMN "workspace_id" uuid;--> statement-breakpoint
ALTER TABLE "auth"."sessions" ADD COLUMN "reauthenticated_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "sessions_connection_idx" ON "auth"."sessions" USING btree ("connection_id");