CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"at" bigint NOT NULL,
	"report_id" text,
	"event" text NOT NULL,
	"detail" json,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"report_id" text NOT NULL,
	"target" text NOT NULL,
	"study_id" text NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_token" text,
	"lease_expires_at" bigint,
	"next_attempt_at" bigint NOT NULL,
	"last_error_code" text,
	"last_error_message" text,
	"lease_expiries" integer DEFAULT 0 NOT NULL,
	"fhir_refs" jsonb,
	"content_hash" text,
	"is_critical" boolean DEFAULT false NOT NULL,
	"source" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"delivered_at" bigint,
	"patient_label" text,
	"hl7_control_id" text,
	"hl7_ack_control_id" text,
	"rejection_text" text,
	"mrn_hash" text,
	"accession" text,
	"signed_at" bigint,
	"is_addendum" boolean
);
--> statement-breakpoint
CREATE TABLE "inbox" (
	"webhook_id" text PRIMARY KEY NOT NULL,
	"event_id" text NOT NULL,
	"type" text NOT NULL,
	"received_at" bigint NOT NULL,
	"body_sha256" text NOT NULL,
	"report_id" text,
	"study_id" text,
	"presigned_url" text
);
--> statement-breakpoint
CREATE TABLE "locks" (
	"key" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"imaging_study_id" text PRIMARY KEY NOT NULL,
	"service_request_id" text,
	"patient_id" text,
	"study_instance_uid" text,
	"avara_study_id" text,
	"viewer_study_id" text,
	"avara_cancelled" boolean DEFAULT false NOT NULL,
	"sent_field_hashes" jsonb,
	"source_versions" jsonb NOT NULL,
	"change_seq" integer DEFAULT 0 NOT NULL,
	"state" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_token" text,
	"lease_expires_at" bigint,
	"next_attempt_at" bigint NOT NULL,
	"last_error_code" text,
	"last_error_message" text,
	"lease_expiries" integer DEFAULT 0 NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"synced_at" bigint
);
--> statement-breakpoint
CREATE TABLE "polled_studies" (
	"study_id" text PRIMARY KEY NOT NULL,
	"signature" text NOT NULL,
	"demographic_hashes" jsonb NOT NULL,
	"cancelled_flagged" boolean DEFAULT false NOT NULL,
	"seen_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"updated_at" bigint DEFAULT ((extract(epoch from now()) * 1000)::bigint) NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_report" ON "audit_events" USING btree ("report_id","seq");--> statement-breakpoint
CREATE INDEX "audit_at" ON "audit_events" USING btree ("at");--> statement-breakpoint
CREATE UNIQUE INDEX "deliveries_report_target" ON "deliveries" USING btree ("report_id","target");--> statement-breakpoint
CREATE INDEX "deliveries_claim" ON "deliveries" USING btree ("target","state","next_attempt_at");--> statement-breakpoint
CREATE INDEX "deliveries_study" ON "deliveries" USING btree ("study_id");--> statement-breakpoint
CREATE INDEX "deliveries_created" ON "deliveries" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "deliveries_delivered" ON "deliveries" USING btree ("delivered_at");--> statement-breakpoint
CREATE INDEX "deliveries_mrn_hash" ON "deliveries" USING btree ("mrn_hash");--> statement-breakpoint
CREATE INDEX "deliveries_accession" ON "deliveries" USING btree ("accession");--> statement-breakpoint
CREATE UNIQUE INDEX "inbox_event_id" ON "inbox" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "inbox_received_at" ON "inbox" USING btree ("received_at");--> statement-breakpoint
CREATE INDEX "inbox_report_id" ON "inbox" USING btree ("report_id");--> statement-breakpoint
CREATE INDEX "orders_claim" ON "orders" USING btree ("state","next_attempt_at");--> statement-breakpoint
CREATE INDEX "orders_service_request" ON "orders" USING btree ("service_request_id");--> statement-breakpoint
CREATE INDEX "orders_patient" ON "orders" USING btree ("patient_id");