/**
 * `trib start` (what `npm start` runs): the pipeline a new user sees first, on the embedded log.
 *
 *   datagen source ──▶ pageviews ──▶ streams job: views per page ──▶ pageview-counts ──▶ file sink
 *
 * A Connect worker runs the datagen source and the file sink in this process; a streams job counts
 * page views per page in a LevelDB store; the display shows each stage's throughput every second.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker, type WorkerHandle } from '../../connect/index.js';
import { count, defineJob, groupBy, jsonSerde, mapValues, runJob, to } from '../../streams/index.js';
import { connect } from '../client/index.js';
import type { CommandSpec } from './args.js';
import { intFlag, type LeafCommand, stringFlag } from './command.js';
import { styleFor } from './style.js';
import { formatCount, formatDuration } from './text.js';

const spec: CommandSpec = {
  name: 'start',
  summary:
    'Runs the quick-start pipeline on the embedded log: a datagen source writes page views, a streams job ' +
    'counts views per page (state in LevelDB, backed by a changelog topic), and a file sink writes the counts; ' +
    'live throughput of every stage is shown each second.',
  usage: 'trib start [--seconds S] [--rate N] [--data-dir DIR]',
  positionals: [0, 0],
  flags: {
    seconds: { type: 'int', arg: 'S', default: 20, help: 'how long to run; 0 runs until Ctrl-C' },
    rate: {
      type: 'int',
      arg: 'N',
      default: 0,
      help: 'page views per second from datagen; 0 is as fast as possible',
    },
    'data-dir': {
      type: 'string',
      arg: 'DIR',
      help: 'keep the log, the state and the output here (default: a temporary directory, removed at the end)',
    },
  },
};

interface PageView {
  viewtime: number;
  userid: string;
  pageid: string;
}

const countsJob = defineJob({
  applicationId: 'pageview-counter',
  config: { 'commit.interval.ms': 1000 },
  build(builder) {
    builder.stream<string | null, PageView>('pageviews', { valueSerde: jsonSerde<PageView>() }).pipe(
      groupBy((_key, view) => view.pageid, { name: 'by-page' }),
      count({ store: 'views-per-page' }),
      mapValues((n, page) => `${page}\t${n}`),
      to('pageview-counts'),
    );
  },
});

function sum(worker: WorkerHandle, connector: string): number {
  let n = 0;
  for (const m of worker.metrics()) if (m.connector === connector) n += m.records;
  return n;
}

export const startCommand: LeafCommand = {
  kind: 'command',
  spec,
  async run(args, io) {
    const seconds = intFlag(args, 'seconds') ?? 20;
    const rate = intFlag(args, 'rate') ?? 0;
    const given = stringFlag(args, 'data-dir');
    const dir = given ?? (await mkdtemp(join(tmpdir(), 'trib-start-')));
    const style = styleFor(io.stdout, io.env);
    const out = (line = '') => io.stdout.write(`${line}\n`);
    const outputFile = join(dir, 'pageview-counts.txt');

    const client = await connect({ 'data.dir': join(dir, 'log') });
    let worker: WorkerHandle | undefined;
    let job: Awaited<ReturnType<typeof runJob>> | undefined;
    let stopRequested = false;
    const offSignal = io.onSignal(() => {
      stopRequested = true;
    });
    try {
      const admin = client.admin();
      const existing = new Set(await admin.listTopics());
      const wanted = ['pageviews', 'pageview-counts'].filter((t) => !existing.has(t));
      if (wanted.length > 0) await admin.createTopics(wanted.map((topic) => ({ topic, numPartitions: 3 })));

      out(style.bold('Tributary quick start'));
      out(`  data dir   ${dir}${given ? '' : ' (temporary)'}`);
      out('  pipeline   datagen ─▶ pageviews ─▶ streams: views per page ─▶ pageview-counts ─▶ file sink');
      out(`  output     ${outputFile}`);
      out(
        `  running    ${seconds > 0 ? formatDuration(seconds * 1000) : 'until Ctrl-C'}${rate > 0 ? `, ${formatCount(rate)} views/s` : ''}`,
      );
      out();

      job = await runJob(countsJob, { client, stateDir: join(dir, 'state') });
      worker = await startWorker({
        client,
        rest: false,
        log: () => {},
        config: {
          'offset.storage.file.filename': join(dir, 'connect.offsets'),
          'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
          'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
          'value.converter.schemas.enable': false,
        },
        connectors: [
          {
            name: 'pageviews-source',
            'connector.class': 'DatagenConnector',
            'kafka.topic': 'pageviews',
            quickstart: 'pageviews',
            'max.interval': 0,
            ...(rate > 0 ? { 'records.per.second': rate } : {}),
            'tasks.max': 1,
          },
          {
            name: 'counts-sink',
            'connector.class': 'FileStreamSink',
            topics: 'pageview-counts',
            file: outputFile,
            'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
          },
        ],
      });

      const header = `  time │ ${'generated/s'.padStart(12)} │ ${'streams in/s'.padStart(12)} │ ${'streams out/s'.padStart(13)} │ ${'written/s'.padStart(12)}`;
      out(style.dim(header));
      const started = Date.now();
      let last = { gen: 0, in: 0, out: 0, sink: 0 };
      for (let tick = 1; !stopRequested && (seconds === 0 || tick <= seconds); tick++) {
        const wait = started + tick * 1000 - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const m = job.metrics();
        const now = {
          gen: sum(worker, 'pageviews-source'),
          in: m.recordsIn,
          out: m.recordsOut,
          sink: sum(worker, 'counts-sink'),
        };
        const cell = (n: number, w: number) => formatCount(n).padStart(w);
        out(
          `${String(tick).padStart(4)} s │ ${cell(now.gen - last.gen, 12)} │ ${cell(now.in - last.in, 12)} │ ${cell(now.out - last.out, 13)} │ ${cell(now.sink - last.sink, 12)}`,
        );
        last = now;
      }
      const elapsed = Date.now() - started;
      await worker.stop();
      worker = undefined;
      const finalMetrics = job.metrics();
      await job.close();
      job = undefined;
      out();
      out(style.bold(`in ${formatDuration(elapsed)}:`));
      out(`  generated  ${formatCount(last.gen)} page views`);
      out(
        `  streams    ${formatCount(finalMetrics.recordsIn)} records in, ${formatCount(finalMetrics.recordsOut)} out ` +
          '(each view passes twice: once through the repartition topic that groups views by page)',
      );
      out(`  written    ${formatCount(last.sink)} lines to ${outputFile}`);
      const lines = (await readFile(outputFile, 'utf8').catch(() => ''))
        .trimEnd()
        .split('\n')
        .filter(Boolean);
      if (lines.length > 0) {
        out();
        out(style.dim('the last counts written (page, views so far):'));
        for (const l of lines.slice(-5)) out(`  ${l}`);
      }
      if (!given) out(style.dim(`\n(${dir} is removed; pass --data-dir to keep it)`));
      return 0;
    } finally {
      offSignal();
      await worker?.stop().catch(() => undefined);
      await job?.close().catch(() => undefined);
      await client.close();
      if (!given) await rm(dir, { recursive: true, force: true });
    }
  },
};
