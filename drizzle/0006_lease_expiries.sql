ALTER TABLE `deliveries` ADD `lease_expiries` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `orders` ADD `lease_expiries` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
-- Deliveries counted their expiries in the audit trail until now: carry the count over, so a
-- job that was already crash-looping keeps its place towards the cap.
UPDATE `deliveries` SET `lease_expiries` = (SELECT count(*) FROM `audit_events` WHERE `audit_events`.`report_id` = `deliveries`.`report_id` AND `audit_events`.`event` = 'lease_expired');
