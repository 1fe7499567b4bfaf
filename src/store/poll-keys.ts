// Settings keys the poller writes and the metrics and status read.
export const POLL_CURSOR_KEY = 'poll.cursor';
export const POLL_LAST_SUCCESS_KEY = 'poll.last_success_at';
