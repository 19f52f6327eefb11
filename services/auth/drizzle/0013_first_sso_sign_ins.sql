CREATE TABLE "auth"."sso_first_sign_ins" (
	"user_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"idp_entity_id" text NOT NULL,
	"first_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sso_first_sign_ins_user_id_connection_id_idp_entity_id_pk" PRIMARY KEY("user_id","connection_id","idp_entity_id")
);
--> statement-breakpoint
ALTER TABLE "auth"."sessions" ADD COLUMN "end_link_hash" text;--> statement-breakpoint
ALTER TABLE "auth"."sso_first_sign_ins" ADD CONSTRAINT "sso_first_sign_ins_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "auth"."sso_first_sign_ins" ADD CONSTRAINT "sso_first_sign_ins_connection_id_sso_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "auth"."sso_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "sessions_end_link_hash_key" ON "auth"."sessions" USING btree ("end_link_hash");--> statement-breakpoint
-- Whoever signed in through an IdP before this table existed has used it already: no email for them.
INSERT INTO "auth"."sso_first_sign_ins" ("user_id", "connection_id", "idp_entity_id", "first_at")
SELECT s."user_id", s."connection_id", c."idp_entity_id", min(s."created_at")
FROM "auth"."sessions" s JOIN "auth"."sso_connections" c ON c."id" = s."connection_id"
WHERE s."method" = 'saml' AND c."idp_entity_id" IS NOT NULL
GROUP BY s."user_id", s."connection_id", c."idp_entity_id";
