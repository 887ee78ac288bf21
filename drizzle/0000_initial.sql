CREATE TABLE "customers" (
	"tenant_id" text NOT NULL,
	"external_id" text NOT NULL,
	"task_type" text,
	"first_name" text,
	"last_name" text,
	"email" text,
	"birthday" date,
	"ssn_last4" text,
	"timezone" text,
	"phone" text,
	"address1" text,
	"address2" text,
	"city" text,
	"state" text,
	"zip" text,
	"do_not_call" boolean,
	"is_test" boolean,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"field_stamps" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"metadata_registers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "customers_tenant_id_external_id_pk" PRIMARY KEY("tenant_id","external_id")
);
--> statement-breakpoint
CREATE TABLE "loans" (
	"tenant_id" text NOT NULL,
	"loan_id" bigint NOT NULL,
	"external_id" text NOT NULL,
	"reference" text,
	"status" text,
	"principal" numeric,
	"balance" numeric,
	"currency" text,
	"opened_on" date,
	"closed_on" date,
	"days_past_due" integer,
	"missing_since" timestamp with time zone,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "loans_tenant_id_loan_id_pk" PRIMARY KEY("tenant_id","loan_id")
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "outbox_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"event_id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"external_id" text NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_event_id_unique" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE TABLE "processed_events" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"external_id" text NOT NULL,
	"outcome" text NOT NULL,
	"processed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tenants" (
	"tenant_id" text PRIMARY KEY NOT NULL,
	"task_types" text[] NOT NULL,
	"lending_api_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "customers_tenant_updated_at_idx" ON "customers" USING btree ("tenant_id","updated_at");--> statement-breakpoint
CREATE INDEX "loans_customer_idx" ON "loans" USING btree ("tenant_id","external_id");--> statement-breakpoint
CREATE INDEX "processed_events_processed_at_idx" ON "processed_events" USING btree ("processed_at");