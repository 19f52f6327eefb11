CREATE SCHEMA IF NOT EXISTS "invitation";
--> statement-breakpoint
CREATE TABLE "invitation"."emails" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"invitation_id" uuid NOT NULL,
	"queue" text NOT NULL,
	"recipient" text NOT NULL,
	"subject" text NOT NULL,
	"text_body" text NOT NULL,
	"html_body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"queued_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"discarded_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "invitation"."invitations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"workspace_id" uuid NOT NULL,
	"workspace_name" text NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"token_hash" text NOT NULL,
	"invited_by" uuid NOT NULL,
	"inviter_email" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"accepted_by" uuid,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "invitation"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"position" bigint GENERATED ALWAYS AS IDENTITY (sequence name "invitation"."outbox_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" text NOT NULL,
	"event" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "invitation"."emails" ADD CONSTRAINT "emails_invitation_id_invitations_id_fk" FOREIGN KEY ("invitation_id") REFERENCES "invitation"."invitations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "emails_unsent_idx" ON "invitation"."emails" USING btree ("queue","queued_at") WHERE "sent_at" is null and "discarded_at" is null;--> statement-breakpoint
CREATE INDEX "emails_invitation_idx" ON "invitation"."emails" USING btree ("invitation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_token_hash_key" ON "invitation"."invitations" USING btree ("token_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "invitations_pending_email_key" ON "invitation"."invitations" USING btree ("workspace_id","email") WHERE "status" = 'pending';--> statement-breakpoint
CREATE INDEX "invitations_workspace_idx" ON "invitation"."invitations" USING btree ("workspace_id","created_at");--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "invitation"."outbox" USING btree ("position") WHERE "published_at" is null;--> statement-breakpoint
CREATE INDEX "outbox_published_at_idx" ON "invitation"."outbox" USING btree ("published_at") WHERE "published_at" is not null;