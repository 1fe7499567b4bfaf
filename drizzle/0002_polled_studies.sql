CREATE TABLE `polled_studies` (
	`study_id` text PRIMARY KEY NOT NULL,
	`signature` text NOT NULL,
	`demographic_hashes` text NOT NULL,
	`cancelled_flagged` integer DEFAULT false NOT NULL,
	`seen_at` integer NOT NULL
);
