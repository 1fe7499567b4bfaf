import express from 'express';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { serveRpc } from '../child-rpc.ts';

// The intake ceiling on PostgreSQL, as bare-intake-child.ts is on SQLite: verify the Standard
// Webhooks signature on the raw body, commit one row (one autocommitted INSERT, durable as the
// product's commits are: synchronous_commit as the server has it), answer. The pool has serve's
// size (open-pg-store.ts: 10), so both may keep as many commits in flight.
const pool = new pg.Pool({ connectionString: process.env.BENCH_DATABASE_URL!, max: Number(process.env.BENCH_POOL_SIZE ?? 10), application_name: 'afs-bench-bare' });
await pool.query('CREATE TABLE IF NOT EXISTS inbox (webhook_id TEXT PRIMARY KEY, received_at BIGINT NOT NULL, body TEXT NOT NULL)');
const verifier = new Webhook(process.env.BENCH_WEBHOOK_KEY!);

const app = express();
app.post('/webhooks/avara', express.raw({ type: () => true, limit: '1mb' }), (req, res, next) => {
  const raw = (req.body as Buffer).toString('utf8');
  try {
    verifier.verify(raw, req.headers as Record<string, string>);
  } catch {
    return void res.status(401).json({ error: 'bad_signature' });
  }
  pool.query('INSERT INTO inbox (webhook_id, received_at, body) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [req.headers['webhook-id'], Date.now(), raw])
    .then(() => res.json({ success: true }), next);
});
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  serveRpc({ url: `http://127.0.0.1:${address.port}` }, {});
});
