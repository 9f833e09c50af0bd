/**
 * Java `.properties` files (what Kafka Connect's connect-standalone.properties and connector
 * configs are): `key=value`, `key: value` or `key value`, `#`/`!` comments, `\` line continuations
 * and escapes (\t \n \uXXXX).
 */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^\s+/, '');
    }
    const m = /^((?:\\.|[^=:\s\\])*)\s*[=:\s]\s*(.*)$/.exec(line);
    const key = unescapeJava(m ? m[1]! : line);
    out[key] = unescapeJava(m ? m[2]! : '');
  }
  return out;
}

function unescapeJava(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, c: string) => {
    if (c.length === 5) return String.fromCharCode(Number.parseInt(c.slice(1), 16));
    return c === 't' ? '\t' : c === 'n' ? '\n' : c === 'r' ? '\r' : c === 'f' ? '\f' : c;
  });
}

/** A JSON object or .properties text as a string map (JSON values become strings, as Connect stores them). */
export function parseConfigText(text: string, source: string): Record<string, string> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`${source}: not valid JSON: ${(err as Error).message}`);
    }
    return stringMap(json, source);
  }
  return parseProperties(text);
}

export function stringMap(json: unknown, source: string): Record<string, string> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${source}: expected a JSON object of config keys`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(json)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'object')
      throw new Error(`${source}: the value of '${k}' must be a string, number or boolean`);
    out[k] = String(v);
  }
  return out;
}
