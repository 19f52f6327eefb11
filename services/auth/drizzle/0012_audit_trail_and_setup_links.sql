CREATE TABLE "auth"."setup_links" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"opened_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "auth"."audit_log" ALTER COLUMN "actor_user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "auth"."audit_log" ADD COLUMN "actor_method" text DEFAULT 'password' NOT NULL;--> statement-breakpoint
ALTER TABLE "auth"."audit_log" ADD COLUMN "setup_link_id" uuid;--> statement-breakpoint
ALTER TABLE "auth"."audit_log" ADD COLUMN "ip" text;--> statement-breakpoint
ALTER TABLE "auth"."audit_log" ADD COLUMN "event_id" uuid;--> statement-breakpoint
ALTER TABLE "auth"."setup_links" ADD CONSTRAINT "setup_links_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "auth"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."setup_links" ADD CONSTRAINT "setup_links_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "setup_links_token_hash_key" ON "auth"."setup_links" USING btree ("token_hash");--> statement-breakpoint
CREATE INDEX "setup_links_workspace_idx" ON "auth"."setup_links" USING btree ("workspace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_event_key" ON "auth"."audit_log" USING btree ("event_id");--> statement-breakpoint
-- Metadata refreshes audited before this migration named a placeholder user: they are the system.
UPDATE "auth"."audit_log" SET "actor_user_id" = NULL, "actor_method" = 'system' WHERE "actor_user_id" = '00000000-0000-0000-0000-000000000000';
