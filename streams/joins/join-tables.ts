/**
 * Table–table joins (inner, left, outer) and the foreign-key table–table join.
 */
import { merge, Observable } from 'rxjs';
import type { Table } from '../builder.js';
import { currentContext } from '../context.js';
import { to } from '../operators/to.js';
import { jsonSerde } from '../serdes.js';
import type { TableRecord } from '../types.js';

type Origin = Pick<TableRecord<unknown, unknown>, 'timestamp' | 'headers' | 'topic' | 'partition' | 'offset'>;

function rec<K, V>(base: Origin, key: K, value: V | null, oldValue?: V | null): TableRecord<K, V> {
  return {
    key,
    value,
    ...(oldValue !== undefined ? { oldValue } : {}),
    timestamp: base.timestamp,
    headers: base.headers,
    topic: base.topic,
    partition: base.partition,
    offset: base.offset,
  };
}

export interface TableJoinOptions {
  /** 'inner' (default), 'left' or 'outer'. */
  kind?: 'inner' | 'left' | 'outer';
}

/**
 * Joins two co-partitioned tables by key: whenever either side changes, the join of both current
 * values is emitted (a null value — a tombstone — when the join no longer has a result).
 *
 * @example
 * ```ts
 * const joined = joinTables(users, addresses, (user, address) => ({ ...user, address }), { kind: 'left' });
 * ```
 */
export function joinTables<K, VL, VR, R>(
  left: Table<K, VL>,
  right: Table<K, VR>,
  joiner: (left: VL | null, right: VR | null, key: K) => R,
  opts: TableJoinOptions = {},
): Observable<TableRecord<K, R>> {
  const kind = opts.kind ?? 'inner';
  const result = (l: VL | null, r: VR | null, key: K): R | null => {
    if (l === null && r === null) return null;
    if (kind === 'inner' && (l === null || r === null)) return null;
    if (kind === 'left' && l === null) return null;
    return joiner(l, r, key);
  };
  const fromLeft = new Observable<TableRecord<K, R>>((sub) =>
    left.subscribe((u) => {
      const r = right.get(u.key) ?? null;
      const value = result(u.value, r, u.key);
      const old = u.oldValue === undefined ? undefined : result(u.oldValue, r, u.key);
      if (value === null && (old === null || old === undefined) && u.oldValue !== undefined) return;
      sub.next(rec(u, u.key, value, old));
    }),
  );
  const fromRight = new Observable<TableRecord<K, R>>((sub) =>
    right.subscribe((u) => {
      const l = left.get(u.key) ?? null;
      const value = result(l, u.value, u.key);
      const old = u.oldValue === undefined ? undefined : result(l, u.oldValue, u.key);
      if (value === null && (old === null || old === undefined) && u.oldValue !== undefined) return;
      sub.next(rec(u, u.key, value, old));
    }),
  );
  return merge(fromLeft, fromRight);
}

export interface ForeignKeyJoinOptions {
  /** 'inner' (default) or 'left'. */
  kind?: 'inner' | 'left';
  /** Names the subscription topic `<application.id>-<name>-repartition` and the index store. */
  name?: string;
}

interface Subscription<K, VL> {
  /** The left key, its value (null: unsubscribed from this foreign key). */
  k: K;
  v: VL | null;
}

/**
 * Foreign-key join: each left row points at a right row by `foreignKey(leftValue)`. Left changes
 * are sent to the task that owns the foreign key (a subscription topic partitioned as the right
 * table's topic), where an index store (foreign key → left rows) meets the right table; changes on
 * either side emit the joined row keyed by the left key. The result comes out of the foreign key's
 * task: write it to a topic (partitioned by the left key) to use it as a table.
 *
 * @example
 * ```ts
 * const enriched = joinForeignKey(orders, customers, (order) => order.customerId, (order, customer) => ({ ...order, customer }));
 * enriched.pipe(to('orders-enriched'));
 * ```
 */
export function joinForeignKey<K, VL, FK, VR, R>(
  left: Table<K, VL>,
  right: Table<FK, VR>,
  foreignKey: (value: VL) => FK,
  joiner: (left: VL, right: VR | null, key: K) => R,
  opts: ForeignKeyJoinOptions = {},
): Observable<TableRecord<K, R>> {
  const ctx = currentContext('joinForeignKey');
  const kind = opts.kind ?? 'inner';
  const name = opts.name ?? ctx.uniqueName('fk-join');
  const topic = ctx.repartitionTopic(`${name}-subscription`);
  const index = ctx.keyValueStore<FK, Record<string, [K, VL]>>(`${name}-index`, {
    keySerde: jsonSerde<FK>(),
    valueSerde: jsonSerde<Record<string, [K, VL]>>(),
  });
  // Left changes → the foreign key's partition (keyed as the right topic is, so partitions match).
  const subscriptions = new Observable<TableRecord<FK, Subscription<K, VL>>>((sub) =>
    left.subscribe((u) => {
      const oldFk = u.oldValue === null || u.oldValue === undefined ? undefined : foreignKey(u.oldValue);
      const newFk = u.value === null ? undefined : foreignKey(u.value);
      if (oldFk !== undefined && JSON.stringify(oldFk) !== JSON.stringify(newFk)) {
        sub.next(rec<FK, Subscription<K, VL>>(u, oldFk, { k: u.key, v: null }));
      }
      if (newFk !== undefined) sub.next(rec<FK, Subscription<K, VL>>(u, newFk, { k: u.key, v: u.value }));
    }),
  );
  subscriptions.pipe(
    to(topic, { keySerde: right.keySerde, valueSerde: jsonSerde<Subscription<K, VL> | null>() }),
  );
  const arriving = ctx.source<FK, Subscription<K, VL>>(topic, {
    keySerde: right.keySerde,
    valueSerde: jsonSerde<Subscription<K, VL>>(),
  });
  const emit = (
    sub: { next(r: TableRecord<K, R>): void },
    k: K,
    lv: VL | null,
    rv: VR | null,
    base: Origin,
  ) => {
    let value: R | null = null;
    if (lv !== null && (rv !== null || kind === 'left')) value = joiner(lv, rv, k);
    sub.next(rec(base, k, value));
  };
  const fromLeft = new Observable<TableRecord<K, R>>((sub) =>
    arriving.subscribe((r) => {
      const entries = index.get(r.key) ?? {};
      const id = JSON.stringify(r.value.k);
      if (r.value.v === null) delete entries[id];
      else entries[id] = [r.value.k, r.value.v];
      if (Object.keys(entries).length === 0) index.delete(r.key);
      else index.put(r.key, entries);
      if (r.value.v === null) return;
      emit(sub, r.value.k, r.value.v, right.get(r.key) ?? null, r);
    }),
  );
  const fromRight = new Observable<TableRecord<K, R>>((sub) =>
    right.subscribe((u) => {
      const entries = index.get(u.key);
      if (!entries) return;
      for (const [k, lv] of Object.values(entries)) emit(sub, k, lv, u.value, u);
    }),
  );
  return merge(fromLeft, fromRight);
}
