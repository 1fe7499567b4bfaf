import { eq } from 'drizzle-orm';
import { requeueDelivery } from './deliveries.ts';
import type { OperatorAction } from './operator-action.ts';
import type { Db } from './open-store.ts';
import { deliveries } from './schema.ts';

/** Every dead delivery, of every target, back to the queue; returns how many. */
export function requeueDeadDeliveries(db: Db, now: number, action: OperatorAction): number {
  const dead = db.select({ reportId: deliveries.reportId, target: deliveries.target }).from(deliveries).where(eq(deliveries.state, 'dead')).all();
  return dead.filter(({ reportId, target }) => requeueDelivery(db, reportId, now, action, target) === 'requeued').length;
}
