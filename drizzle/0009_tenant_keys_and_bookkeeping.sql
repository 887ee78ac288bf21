-- SPEC §4.7: processed events are keyed by (tenant, eventId), not eventId alone. Every existing
-- row keeps its tenant_id, so every event already seen is still a duplicate for its tenant.
ALTER TABLE "processed_events" DROP CONSTRAINT "processed_events_pkey";--> statement-breakpoint
ALTER TABLE "processed_events" ADD CONSTRAINT "processed_events_tenant_id_event_id_pk" PRIMARY KEY("tenant_id","event_id");--> statement-breakpoint
ALTER TABLE "outbox" DROP CONSTRAINT "outbox_event_id_unique";--> statement-breakpoint
ALTER TABLE "outbox" ADD CONSTRAINT "outbox_tenant_id_event_id_unique" UNIQUE("tenant_id","event_id");--> statement-breakpoint
-- Housekeeping on the database's clock (processed-events-pruner.ts).
CREATE TABLE "maintenance_runs" (
	"task" text PRIMARY KEY NOT NULL,
	"last_started_at" timestamp with time zone NOT NULL,
	"last_finished_at" timestamp with time zone,
	"last_deleted" integer
);
--> statement-breakpoint
-- Tombstones of deleted metadata keys, apart from customers.metadata_registers. Existing ones
-- move here at their customer's next metadata write (domain/metadata-registers.ts).
CREATE TABLE "metadata_tombstones" (
	"tenant_id" text NOT NULL,
	"external_id" text NOT NULL,
	"path" text NOT NULL,
	"stamp" text NOT NULL,
	CONSTRAINT "metadata_tombstones_tenant_id_external_id_path_pk" PRIMARY KEY("tenant_id","external_id","path")
);
