CREATE TABLE "dlq_redrives" (
	"dlq_topic" text NOT NULL,
	"dlq_partition" integer NOT NULL,
	"dlq_offset" bigint NOT NULL,
	"target_topic" text NOT NULL,
	"error_code" text,
	"event_id" uuid,
	"run_id" uuid NOT NULL,
	"redriven_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dlq_redrives_dlq_topic_dlq_partition_dlq_offset_pk" PRIMARY KEY("dlq_topic","dlq_partition","dlq_offset")
);
