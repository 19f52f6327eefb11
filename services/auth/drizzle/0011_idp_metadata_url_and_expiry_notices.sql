CREATE TABLE "auth"."certificate_expiry_notices" (
	"connection_id" uuid NOT NULL,
	"fingerprint" text NOT NULL,
	"threshold_days" integer NOT NULL,
	"workspace_id" uuid NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"announced_at" timestamp with time zone NOT NULL,
	CONSTRAINT "certificate_expiry_notices_connection_id_fingerprint_threshold_days_pk" PRIMARY KEY("connection_id","fingerprint","threshold_days")
);
--> statement-breakpoint
ALTER TABLE "auth"."sso_connections" ADD COLUMN "idp_metadata_url" text;--> statement-breakpoint
ALTER TABLE "auth"."sso_connections" ADD COLUMN "idp_metadata_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "auth"."sso_connections" ADD COLUMN "idp_metadata_read_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "auth"."sso_connections" ADD COLUMN "idp_metadata_problem" jsonb;--> statement-breakpoint
ALTER TABLE "auth"."certificate_expiry_notices" ADD CONSTRAINT "certificate_expiry_notices_connection_id_sso_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "auth"."sso_connections"("id") ON DELETE cascade ON UPDATE no action;