CREATE TABLE `orders` (
	`imaging_study_id` text PRIMARY KEY NOT NULL,
	`service_request_id` text,
	`patient_id` text,
	`study_instance_uid` text,
	`avara_study_id` text,
	`viewer_study_id` text,
	`avara_cancelled` integer DEFAULT false NOT NULL,
	`sent_field_hashes` text,
	`source_versions` text NOT NULL,
	`change_seq` integer DEFAULT 0 NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_token` text,
	`lease_expires_at` integer,
	`next_attempt_at` integer NOT NULL,
	`last_error_code` text,
	`last_error_message` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`synced_at` integer
);
--> statement-breakpoint
CREATE INDEX `orders_claim` ON `orders` (`state`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `orders_service_request` ON `orders` (`service_request_id`);--> statement-breakpoint
CREATE INDEX `orders_patient` ON `orders` (`patient_id`);