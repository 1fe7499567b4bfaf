ALTER TABLE `deliveries` ADD `mrn_hash` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `accession` text;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `signed_at` integer;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `is_addendum` integer;--> statement-breakpoint
CREATE INDEX `deliveries_mrn_hash` ON `deliveries` (`mrn_hash`);--> statement-breakpoint
CREATE INDEX `deliveries_accession` ON `deliveries` (`accession`);