ALTER TABLE "auth"."sso_connections" ADD COLUMN "sign_authn_requests" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "auth"."sso_connections" ADD COLUMN "idp_wants_signed_requests" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "auth"."sso_connections" ADD COLUMN "sp_signing_keys" jsonb DEFAULT '[]'::jsonb NOT NULL;