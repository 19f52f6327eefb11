CREATE TABLE "invitation"."deleted_workspaces" (
	"workspace_id" uuid PRIMARY KEY NOT NULL,
	"deleted_at" timestamp with time zone NOT NULL
);
