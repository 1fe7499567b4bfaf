CREATE TABLE `audit_events` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`report_id` text,
	`event` text NOT NULL,
	`detail` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_report` ON `audit_events` (`report_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit_events` (`at`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`report_id` text PRIMARY KEY NOT NULL,
	`study_id` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_token` text,
	`lease_expires_at` integer,
	`next_attempt_at` integer NOT NULL,
	`last_error_code` text,
	`last_error_message` text,
	`fhir_refs` text,
	`content_hash` text,
	`is_critical` integer DEFAULT false NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`delivered_at` integer
);
--> statement-breakpoint
CREATE INDEX `deliveries_claim` ON `deliveries` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `deliveries_study` ON `deliveries` (`study_id`);--> statement-breakpoint
CREATE INDEX `deliveries_updated` ON `deliveries` (`updated_at`);--> statement-breakpoint
CREATE TABLE `inbox` (
	`webhook_id` text PRIMARY KEY NOT NULL,
	`event_id` text NOT NULL,
	`type` text NOT NULL,
	`received_at` integer NOT NULL,
	`body_sha256` text NOT NULL,
	`report_id` text,
	`study_id` text,
	`presigned_url` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbox_event_id` ON `inbox` (`event_id`);--> statement-breakpoint
CREATE INDEX `inbox_received_at` ON `inbox` (`received_at`);--> statement-breakpoint
CREATE INDEX `inbox_report_id` ON `inbox` (`report_id`);--> statement-breakpoint
CREATE TABLE `locks` (
	`key` text PRIMARY KEY NOT NULL,
	`holder` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer DEFAULT (unixepoch() * 1000) NOT NULL
);
