/**
 * Clickstream sessions: clicks keyed by user (JSON `{ "page": "/home" }`) grouped into sessions
 * that end after 30 minutes without a click; each closed session goes to `click-sessions` as
 * `{ user, start, end, clicks, pages }` (session windows, final results once the session closes).
 */
import { defineJob, jsonSerde, map, sessionAggregate, sessionWindows, to } from '../../streams/index.js';

interface Click {
  page: string;
}

interface Session {
  clicks: number;
  pages: string[];
}

const MAX_PAGES = 50;

export default defineJob({
  applicationId: 'clickstream-sessions',
  build(builder) {
    builder.stream<string, Click>('clicks', { valueSerde: jsonSerde<Click>() }).pipe(
      sessionAggregate(
        sessionWindows(30 * 60_000, { graceMs: 60_000 }),
        (): Session => ({ clicks: 0, pages: [] }),
        (_user, click, s) => ({ clicks: s.clicks + 1, pages: [...s.pages, click.page].slice(-MAX_PAGES) }),
        (a, b) => ({ clicks: a.clicks + b.clicks, pages: [...a.pages, ...b.pages].slice(-MAX_PAGES) }),
        { store: 'sessions', emit: 'final' },
      ),
      map((w, s) => ({
        key: w.key,
        value: {
          user: w.key,
          start: w.window.start,
          end: w.window.end,
          clicks: s?.clicks ?? 0,
          pages: s?.pages ?? [],
        },
      })),
      to('click-sessions'),
    );
  },
});
