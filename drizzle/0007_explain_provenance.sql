ALTER TABLE "processed_events" ADD COLUMN "occurred_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "processed_events" ADD COLUMN "source" text;--> statement-breakpoint
ALTER TABLE "processed_events" ADD COLUMN "stale_fields" text[];--> statement-breakpoint
CREATE INDEX "enrichment_jobs_customer_idx" ON "enrichment_jobs" USING btree ("tenant_id","external_id");--> statement-breakpoint
CREATE INDEX "processed_events_stale_customer_idx" ON "processed_events" USING btree ("tenant_id","external_id") WHERE stale_fields is not null or outcome = 'stale';