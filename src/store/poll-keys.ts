// Settings keys the poller writes and the metrics and status read.
export const POLL_CURSOR_KEY = 'poll.cursor';
export const POLL_LAST_SUCCESS_KEY = 'poll.last_success_at';
// The history cutoff the last full sweep applied: an earlier one (POLL_SINCE moved back) revisits every study.
export const POLL_CUTOFF_KEY = 'poll.cutoff_at';
