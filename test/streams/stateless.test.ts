/** Stateless operators are plain RxJS OperatorFunctions: marble tests on virtual time. */
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  filter,
  filterNot,
  flatMap,
  flatMapValues,
  map,
  mapValues,
  merge,
  peek,
  selectKey,
  split,
} from '../../streams/index.js';
import type { StreamRecord } from '../../streams/types.js';

const rec = (key: string, value: string, timestamp = 0): StreamRecord<string, string> => ({
  key,
  value,
  timestamp,
  headers: [],
  topic: 't',
  partition: 0,
  offset: 0,
});

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('stateless operators', () => {
  const values = { a: rec('k1', 'apple'), b: rec('k2', 'banana split'), c: rec('k3', 'cherry') };

  it('map, mapValues and selectKey keep timestamp and source coordinates', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-b|', values);
      expectObservable(src.pipe(mapValues((v) => v.length))).toBe('x-y|', {
        x: { ...values.a, value: 5 },
        y: { ...values.b, value: 12 },
      });
      expectObservable(src.pipe(map((k, v) => ({ key: v, value: k })))).toBe('x-y|', {
        x: { ...values.a, key: 'apple', value: 'k1' },
        y: { ...values.b, key: 'banana split', value: 'k2' },
      });
      expectObservable(src.pipe(selectKey((_k, v) => v[0]!))).toBe('x-y|', {
        x: { ...values.a, key: 'a' },
        y: { ...values.b, key: 'b' },
      });
    });
  });

  it('filter and filterNot', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('abc|', values);
      expectObservable(src.pipe(filter((_k, v) => v.startsWith('b')))).toBe('-b-|', values);
      expectObservable(src.pipe(filterNot((_k, v) => v.startsWith('b')))).toBe('a-c|', values);
    });
  });

  it('flatMapValues and flatMap emit zero or more records in order, synchronously', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('a-(b|)', values);
      expectObservable(src.pipe(flatMapValues((v) => v.split(' ')))).toBe('x-(yz|)', {
        x: values.a,
        y: { ...values.b, value: 'banana' },
        z: { ...values.b, value: 'split' },
      });
      expectObservable(src.pipe(flatMap((k, v) => (v.includes(' ') ? [] : [{ key: v, value: k }])))).toBe(
        'x-|',
        {
          x: { ...values.a, key: 'apple', value: 'k1' },
        },
      );
    });
  });

  it('merge interleaves as records arrive; peek sees every record', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const seen: string[] = [];
      const one = cold('a---c|', values);
      const two = cold('--b|', values);
      expectObservable(
        one.pipe(
          merge(two),
          peek((k) => seen.push(k)),
        ),
      ).toBe('a-b-c|', values);
    });
  });

  it('split sends each record to the first matching branch, the rest to the last', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('abc|', values);
      const [bs, cs, rest] = split(
        src,
        (_k, v) => v.startsWith('b'),
        (_k, v) => v.startsWith('c') || v.startsWith('b'),
      );
      expectObservable(bs!).toBe('-b-|', values);
      expectObservable(cs!).toBe('--c|', values);
      expectObservable(rest!).toBe('a--|', values);
    });
  });
});
