/**
 * The value converters' shortcuts for the common text forms (numeric(p,s) as plain digits,
 * timestamptz in UTC) give exactly what the general parsers give, over many values and the
 * edges (signs, byte boundaries of the two's complement, fractions, scales).
 */
import { describe, expect, it } from 'vitest';
import {
  bigintToBytes,
  fixedDecimalBytes,
  parseDecimal,
  safeIntegerToBytes,
  zonedTimestamp,
  zonedTimestampParsed,
} from '../../../connectors/postgres-cdc/types.js';

let seed = 7;
const rand = (n: number): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
};

describe('postgres-cdc value shortcuts', () => {
  it('safe integers become the same two’s complement bytes as bigints', () => {
    const edges = [0, 1, 127, 128, 255, 256, 32767, 32768, 65535, 2 ** 31, 2 ** 32, 2 ** 53 - 1];
    for (const e of edges) {
      for (const n of [e, -e, e - 1, -e + 1, -e - 1]) {
        if (!Number.isSafeInteger(n)) continue;
        expect(safeIntegerToBytes(n).toString('hex')).toBe(bigintToBytes(BigInt(n)).toString('hex'));
      }
    }
  });

  it('numeric(p,s) text gives the Decimal bytes parseDecimal gives', () => {
    for (let i = 0; i < 5000; i++) {
      const scale = rand(6);
      const int = String(rand(10 ** rand(10)));
      const frac = scale > 0 ? String(rand(10 ** scale)).padStart(rand(2) ? scale : 1, '0') : '';
      const text = `${rand(3) === 0 ? '-' : ''}${int}${frac !== '' ? `.${frac}` : ''}`;
      const d = parseDecimal(text, scale)!;
      const fast = fixedDecimalBytes(text, scale);
      if (fast) expect(fast.toString('hex')).toBe(bigintToBytes(d.unscaled).toString('hex'));
    }
    // Too many digits for a double: left to the general path.
    expect(fixedDecimalBytes('12345678901234.56', 2)).toBeNull();
    expect(fixedDecimalBytes('$1.00', 2)).toBeNull();
    expect(fixedDecimalBytes('-0.00', 2)!.toString('hex')).toBe('00');
  });

  it('timestamptz text in UTC gives the ZonedTimestamp the parser gives', () => {
    for (let i = 0; i < 5000; i++) {
      const ms = rand(2 ** 30) * 60_000 - 2 ** 29 * 30_000 + rand(60_000);
      const iso = new Date(ms).toISOString();
      const fracDigits = rand(7);
      const frac = fracDigits > 0 ? `.${String(rand(10 ** fracDigits)).padStart(fracDigits, '0')}` : '';
      const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac}+00`;
      for (const digits of [0, 3, 6, rand(7)]) {
        expect(zonedTimestamp(text, digits)).toBe(zonedTimestampParsed(text, digits));
      }
    }
    expect(zonedTimestamp('2024-05-01 12:00:00+02', 6)).toBe('2024-05-01T10:00:00Z');
    expect(zonedTimestamp('0044-03-15 12:00:00+00 BC', 6)).toBe(
      zonedTimestampParsed('0044-03-15 12:00:00+00 BC', 6),
    );
    expect(zonedTimestamp('infinity', 6)).toBe('infinity');
  });

  it('take exactly the texts their patterns describe, and leave everything else to the general path', () => {
    // The decimal shortcut's definition as a pattern (the code reads the characters itself).
    const plainDecimal = /^(-?)(\d+)(?:\.(\d+))?$/;
    const decimals = [
      '',
      '-',
      '1.',
      '.5',
      '-.5',
      '1.2.3',
      '+1',
      ' 1',
      '1 ',
      '1e5',
      '١',
      '0x1',
      '--1',
      '1.-2',
    ];
    decimals.push('12', '-12.3', '0.00', '000123.45', '123456789012.3', '1234567890123.4');
    for (const text of decimals) {
      for (const scale of [0, 1, 2, 3]) {
        const m = plainDecimal.exec(text);
        const fits = m !== null && (m[3] ?? '').length <= scale && m[2]!.length + scale <= 15;
        const fast = fixedDecimalBytes(text, scale);
        expect(fast !== null, `${text} scale ${scale}`).toBe(fits);
        if (fast)
          expect(fast.toString('hex')).toBe(
            bigintToBytes(parseDecimal(text, scale)!.unscaled).toString('hex'),
          );
      }
    }
    const base = '2024-05-01 12:00:00';
    const stamps = [`${base}+00`, `${base}.5+00`, `${base}.123456+00`, `${base}.1234567+00`, `${base}.+00`];
    stamps.push(
      `${base}+01`,
      `${base}.5+0`,
      `${base}.50+00`,
      '2024-05-01T12:00:00+00',
      '24-05-01 12:00:00+00',
    );
    stamps.push('2024-05-01 12:00:0a+00', '2024/05/01 12:00:00+00', '2024-05-01 12-00-00+00', `${base}.x+00`);
    const outcome = (f: () => string): string => {
      try {
        return f();
      } catch (err) {
        return `threw ${(err as Error).message}`;
      }
    };
    for (const text of stamps) {
      for (const digits of [0, 1, 3, 6]) {
        // Shortcut or not, the general parser's answer (or error).
        expect(
          outcome(() => zonedTimestamp(text, digits)),
          `${text} ${digits}`,
        ).toBe(outcome(() => zonedTimestampParsed(text, digits)));
      }
    }
  });
});
