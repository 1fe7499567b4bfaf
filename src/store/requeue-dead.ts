import { eq } from 'drizzle-orm';
import { requeueDelivery } from './deliveries.ts';
import type { Db } from './open-store.ts';
import { deliveries } from './schema.ts';

export function requeueDeadDeliveries(db: Db, now: number, by: string): number {
  const dead = db.select({ reportId: deliveries.reportId }).from(deliveries).where(eq(deliveries.state, 'dead')).all();
  return dead.filter(({ reportId }) => requeueDelivery(db, reportId, now, by) === 'requeued').length;
}
