/**
 * The built-in assignors by protocol name. `partition.assignment.strategy` names the ones a
 * consumer offers, in preference order; the coordinator picks the first that every member offers.
 */
import type { AssignorName } from '../types.js';
import type { Assignor } from './assignor.js';
import { cooperativeStickyAssignor } from './cooperative-sticky.js';
import { rangeAssignor } from './range.js';
import { kafkajsRoundRobinAssignor, roundRobinAssignor } from './round-robin.js';

export type { Assignor, AssignorMember, RebalanceProtocol } from './assignor.js';
export { compareMembers } from './assignor.js';
export { cooperativeStickyAssignor, memberGeneration } from './cooperative-sticky.js';
export { rangeAssignor } from './range.js';
export { kafkajsRoundRobinAssignor, roundRobinAssignor } from './round-robin.js';
export { planStickyAssignment, type StickyPlan } from './sticky.js';

const BY_NAME: ReadonlyMap<string, Assignor> = new Map(
  [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor, kafkajsRoundRobinAssignor].map((a) => [
    a.name,
    a,
  ]),
);

/** Protocol names assignorByName knows: AssignorName plus kafkajs's 'RoundRobinAssigner'. */
export const ASSIGNOR_NAMES: readonly string[] = [...BY_NAME.keys()];

/** The assignor for a protocol name; throws for a name we do not implement (e.g. eager 'sticky'). */
export function assignorByName(name: AssignorName | (string & {})): Assignor {
  const assignor = BY_NAME.get(name);
  if (assignor === undefined) {
    throw new RangeError(
      `unknown partition assignor '${name}': use one of ${ASSIGNOR_NAMES.map((n) => `'${n}'`).join(', ')}`,
    );
  }
  return assignor;
}

/**
 * The rebalance protocol a consumer offering `assignors` must follow: COOPERATIVE only when
 * every one of them supports it (Java's rule), else EAGER.
 */
export function rebalanceProtocolOf(assignors: readonly Assignor[]): 'EAGER' | 'COOPERATIVE' {
  return assignors.length > 0 && assignors.every((a) => a.rebalanceProtocol === 'COOPERATIVE')
    ? 'COOPERATIVE'
    : 'EAGER';
}
