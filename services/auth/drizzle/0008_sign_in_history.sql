CREATE TABLE "auth"."sign_in_history" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"workspace_id" uuid NOT NULL,
	"connection_id" uuid,
	"occurred_at" timestamp with time zone NOT NULL,
	"email" text NOT NULL,
	"outcome" text NOT NULL,
	"code" text,
	"reason" text,
	"message" text,
	"reference" text,
	"initiation" text,
	"certificate_fingerprint" text,
	"ip" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "sign_in_history_workspace_idx" ON "auth"."sign_in_history" USING btree ("workspace_id","occurred_at","event_id");--> statement-breakpoint
CREATE INDEX "sign_in_history_reference_idx" ON "auth"."sign_in_history" USING btree ("workspace_id","reference","occurred_at");--> statement-breakpoint
CREATE INDEX "sign_in_history_occurred_idx" ON "auth"."sign_in_history" USING btree ("occurred_at");