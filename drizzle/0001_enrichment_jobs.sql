CREATE TABLE "enrichment_jobs" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "enrichment_jobs_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"tenant_id" text NOT NULL,
	"external_id" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"fill_fields" boolean NOT NULL,
	"loan_ids" bigint[],
	"loan_reference_id" text,
	"causation_id" uuid NOT NULL,
	"revision" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_token" uuid,
	"lease_expires_at" timestamp with time zone,
	"last_error_code" text,
	"failure_reason" text,
	"changed_fields" text[],
	"loans_imported" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "enrichment_jobs_state_check" CHECK (state in ('pending', 'running', 'succeeded', 'failed', 'no_data'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "enrichment_jobs_active_customer_idx" ON "enrichment_jobs" USING btree ("tenant_id","external_id") WHERE state in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "enrichment_jobs_due_idx" ON "enrichment_jobs" USING btree ("next_attempt_at") WHERE state in ('pending', 'running');--> statement-breakpoint
CREATE INDEX "enrichment_jobs_state_idx" ON "enrichment_jobs" USING btree ("state","updated_at");