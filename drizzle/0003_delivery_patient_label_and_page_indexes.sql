ALTER TABLE `deliveries` ADD `patient_label` text;--> statement-breakpoint
CREATE INDEX `deliveries_created` ON `deliveries` (`created_at`,`report_id`);--> statement-breakpoint
CREATE INDEX `deliveries_delivered` ON `deliveries` (`delivered_at`);