// Settings keys the poller writes and the metrics and status read.
export const POLL_CURSOR_KEY = 'poll.cursor';
export const POLL_LAST_SUCCESS_KEY = 'poll.last_success_at';
// The latest history cutoff a study's signature was saved under, and the cutoff of a revisit in
// progress (deliveries/poll-cutoff-state.ts).
export const POLL_CUTOFF_KEY = 'poll.cutoff_at';
export const POLL_REVISIT_KEY = 'poll.revisit_cutoff_at';
