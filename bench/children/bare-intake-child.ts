import Database from 'better-sqlite3';
import express from 'express';
import { Webhook } from 'standardwebhooks';
import { serveRpc } from '../child-rpc.ts';

// The intake ceiling: what any webhook receiver must do at least. Verify the Standard Webhooks
// signature on the raw body, commit one row (WAL, synchronous=FULL, as the product), answer.
const db = new Database(process.env.BENCH_SQLITE_PATH!);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS inbox (webhook_id TEXT PRIMARY KEY, received_at INTEGER NOT NULL, body TEXT NOT NULL)');
const insert = db.prepare('INSERT OR IGNORE INTO inbox (webhook_id, received_at, body) VALUES (?, ?, ?)');
const verifier = new Webhook(process.env.BENCH_WEBHOOK_KEY!);

const app = express();
app.post('/webhooks/avara', express.raw({ type: () => true, limit: '1mb' }), (req, res) => {
  const raw = (req.body as Buffer).toString('utf8');
  try {
    verifier.verify(raw, req.headers as Record<string, string>);
  } catch {
    return void res.status(401).json({ error: 'bad_signature' });
  }
  insert.run(req.headers['webhook-id'], Date.now(), raw);
  res.json({ success: true });
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  serveRpc({ url: `http://127.0.0.1:${address.port}` }, {});
});
