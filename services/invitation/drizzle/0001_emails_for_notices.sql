ALTER TABLE "invitation"."emails" ALTER COLUMN "invitation_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "invitation"."emails" ADD COLUMN "event_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "emails_event_recipient_key" ON "invitation"."emails" USING btree ("event_id","recipient");