/**
 * "Did you mean …?": the known name closest to a mistyped one, by edit distance, when one is close
 * enough to be a likely typo. Shared by every layer that refuses unknown config keys and flags.
 */

/** Names longer than this are not compared (bounded work for hostile input). */
const MAX_NAME_LENGTH = 256;

export function editDistance(a: string, b: string): number {
  if (a.length > MAX_NAME_LENGTH || b.length > MAX_NAME_LENGTH) return Number.POSITIVE_INFINITY;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest of `known` to `name` (case-insensitive), or undefined when none is close. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}
