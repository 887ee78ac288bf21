CREATE TABLE "republish_runs" (
	"run_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"external_ids" text[],
	"updated_since" timestamp with time zone,
	"after_tenant_id" text,
	"after_external_id" text,
	"published" integer DEFAULT 0 NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
