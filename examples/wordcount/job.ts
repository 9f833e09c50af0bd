/**
 * Word count: reads `text-lines`, writes `word-counts` with key = the word (lower case, split on
 * anything that is not a letter or digit) and value = its running count as a decimal string.
 *
 *   trib topics create text-lines --partitions 4 --data-dir data
 *   trib run examples/wordcount/job.ts --data-dir data
 */
import { count, defineJob, flatMapValues, groupBy, mapValues, to } from '../../streams/index.js';

export default defineJob({
  applicationId: 'wordcount',
  build(builder) {
    builder.stream<string | null, string>('text-lines').pipe(
      flatMapValues((line) =>
        (line ?? '')
          .toLowerCase()
          .split(/[^\p{L}\p{N}]+/u)
          .filter((w) => w.length > 0),
      ),
      groupBy((_key, word) => word, { name: 'words' }),
      count({ store: 'counts' }),
      mapValues((n) => String(n)),
      to('word-counts'),
    );
  },
});
