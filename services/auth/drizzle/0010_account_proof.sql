CREATE TABLE "auth"."account_links" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"purpose" text NOT NULL,
	"token_hash" text NOT NULL,
	"request_event_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"used_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "auth"."users" ADD COLUMN "email_confirmed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "auth"."users" ADD COLUMN "email_confirmed_via" text;--> statement-breakpoint
ALTER TABLE "auth"."account_links" ADD CONSTRAINT "account_links_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "account_links_token_hash_key" ON "auth"."account_links" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "account_links_request_event_key" ON "auth"."account_links" USING btree ("request_event_id");--> statement-breakpoint
CREATE INDEX "account_links_user_idx" ON "auth"."account_links" USING btree ("user_id","purpose");--> statement-breakpoint
-- Accounts made before proof of address existed keep working (SSO, accepting invitations): they
-- count as proven, marked so an operator can tell them apart.
UPDATE "auth"."users" SET "email_confirmed_at" = "created_at", "email_confirmed_via" = 'before_proof' WHERE "email_confirmed_at" IS NULL;
