CREATE TABLE "parked_records" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "parked_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"topic" text NOT NULL,
	"key" "bytea",
	"value" "bytea",
	"headers" jsonb NOT NULL,
	"error_code" text NOT NULL,
	"error_message" text NOT NULL,
	"event_id" uuid,
	"tenant_id" text,
	"external_id" text,
	"parked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retries" integer DEFAULT 0 NOT NULL,
	"last_retried_at" timestamp with time zone,
	CONSTRAINT "parked_records_kind_check" CHECK (kind in ('announcement', 'dead_letter'))
);
--> statement-breakpoint
CREATE INDEX "parked_records_code_idx" ON "parked_records" USING btree ("error_code","parked_at");