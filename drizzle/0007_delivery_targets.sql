PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`report_id` text NOT NULL,
	`target` text NOT NULL,
	`study_id` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_token` text,
	`lease_expires_at` integer,
	`next_attempt_at` integer NOT NULL,
	`last_error_code` text,
	`last_error_message` text,
	`lease_expiries` integer DEFAULT 0 NOT NULL,
	`fhir_refs` text,
	`content_hash` text,
	`is_critical` integer DEFAULT false NOT NULL,
	`source` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`delivered_at` integer,
	`patient_label` text,
	`hl7_control_id` text,
	`hl7_ack_control_id` text,
	`rejection_text` text
);
--> statement-breakpoint
-- Every delivery so far went to the one FHIR server: it becomes that target's.
INSERT INTO `__new_deliveries`("id", "report_id", "target", "study_id", "state", "attempts", "lease_token", "lease_expires_at", "next_attempt_at", "last_error_code", "last_error_message", "lease_expiries", "fhir_refs", "content_hash", "is_critical", "source", "created_at", "updated_at", "delivered_at", "patient_label") SELECT 'fhir:' || "report_id", "report_id", 'fhir', "study_id", "state", "attempts", "lease_token", "lease_expires_at", "next_attempt_at", "last_error_code", "last_error_message", "lease_expiries", "fhir_refs", "content_hash", "is_critical", "source", "created_at", "updated_at", "delivered_at", "patient_label" FROM `deliveries`;--> statement-breakpoint
DROP TABLE `deliveries`;--> statement-breakpoint
ALTER TABLE `__new_deliveries` RENAME TO `deliveries`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_report_target` ON `deliveries` (`report_id`,`target`);--> statement-breakpoint
CREATE INDEX `deliveries_claim` ON `deliveries` (`target`,`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `deliveries_study` ON `deliveries` (`study_id`);--> statement-breakpoint
CREATE INDEX `deliveries_created` ON `deliveries` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `deliveries_delivered` ON `deliveries` (`delivered_at`);