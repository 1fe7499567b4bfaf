import { createLogger } from '../../src/create-logger.ts';

// Logs LINES lines of ~200 bytes to stdout through the product's logger, then tells the parent
// on stderr how much memory it holds, and waits for stdin to close before exiting (the parent
// reads stdout only then, so the exit's flush can finish).
const log = createLogger('info');
const lines = Number(process.env.LINES ?? 200_000);
for (let i = 0; i < lines; i++) log.info({ webhookId: `msg_${i}`, outcome: 'stored', filler: 'x'.repeat(120) }, 'webhook accepted');
// The lines went to the stream's buffer; let it try to write.
await new Promise((resolve) => setTimeout(resolve, 200));
process.stderr.write(`${JSON.stringify({ done: true, rssMiB: process.memoryUsage().rss / 2 ** 20 })}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
