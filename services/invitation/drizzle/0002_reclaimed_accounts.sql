CREATE TABLE "invitation"."reclaimed_accounts" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"reclaimed_at" timestamp with time zone NOT NULL
);
