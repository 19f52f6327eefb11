ALTER TABLE "auth"."sessions" ADD COLUMN "recovery_workspace_id" uuid;--> statement-breakpoint
ALTER TABLE "auth"."sso_connections" ADD COLUMN "require_sso" boolean DEFAULT false NOT NULL;