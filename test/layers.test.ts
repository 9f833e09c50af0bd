/**
 * Layers import downwards only (DESIGN.md). streams/, connect/ and connectors/ see only the client
 * API; inside core/, each layer imports only the layers below it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Top to bottom; a layer may import itself and anything after it. */
const CORE_ORDER = ['cli', 'client', 'broker', 'cluster', 'protocol', 'records', 'log', 'env', 'util'];
/** What each core layer may import besides the layers below it in CORE_ORDER. */
const CORE_ALLOWED: Record<string, readonly string[]> = {
  // The log stores record batches: it reads their headers and validates them.
  log: ['records', 'env', 'util'],
  records: ['util'],
  protocol: ['records', 'util'],
  env: ['util'],
  util: [],
};

function files(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(
    /(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith('.')) out.push(relative(ROOT, resolve(dirname(file), spec)));
  }
  return out;
}

describe('layers', () => {
  it('streams/, connect/ and connectors/ use only the client API of core/', () => {
    const bad: string[] = [];
    for (const top of ['streams', 'connect', 'connectors', 'registry', 'examples']) {
      for (const f of files(join(ROOT, top))) {
        for (const target of imports(f)) {
          if (target.startsWith('core/') && !target.startsWith('core/client/')) {
            bad.push(`${relative(ROOT, f)} imports ${target}`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('connect/ and streams/ import no connector (connectors are found at run time, like plugin.path)', () => {
    const bad: string[] = [];
    for (const top of ['connect', 'streams', 'registry']) {
      for (const f of files(join(ROOT, top))) {
        for (const target of imports(f)) {
          if (target.startsWith('connectors/') || target.startsWith('examples/')) {
            bad.push(`${relative(ROOT, f)} imports ${target}`);
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('core layers import downwards only', () => {
    const bad: string[] = [];
    for (const layer of CORE_ORDER) {
      const below = CORE_ALLOWED[layer] ?? CORE_ORDER.slice(CORE_ORDER.indexOf(layer) + 1);
      for (const f of files(join(ROOT, 'core', layer))) {
        for (const target of imports(f)) {
          const m = /^core\/([^/]+)\//.exec(target);
          if (!m) {
            if (/^(streams|connect|connectors|registry)\//.test(target) && layer !== 'cli')
              bad.push(`${relative(ROOT, f)} imports ${target}`);
            continue;
          }
          const to = m[1]!;
          if (to !== layer && !below.includes(to)) bad.push(`${relative(ROOT, f)} imports ${target}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});
