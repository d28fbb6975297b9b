// A writer run in a child process or a worker thread by persistence.test.ts.
//   burst:   insert documents forever, printing "ack <i>" after each acknowledged write (then gets kill -9'd)
//   counter: insert <count> documents tagged <tag> and $inc a shared counter after each, then exit
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { closeDataSources, createServiceClient } from '../../src/data';
import { testApp } from './helpers';

interface Job {
  dataDir: string;
  mode: 'burst' | 'counter';
  tag: string;
  count: number;
}

const job: Job = isMainThread
  ? { dataDir: process.argv[2], mode: process.argv[3] as Job['mode'], tag: process.argv[4] ?? 'p', count: Number(process.argv[5] ?? '0') }
  : (workerData as Job);

async function main(): Promise<void> {
  const client = createServiceClient({ app: testApp(), serviceName: 'mongodb-atlas', dataDir: job.dataDir, identity: { user: null, runAsSystem: true } })!;
  const coll = client.db('durability').collection('docs');
  if (job.mode === 'burst') {
    for (let i = 0; ; i++) {
      await coll.insertOne({ _id: i, payload: 'x'.repeat(200), at: new Date() });
      if (i % 3 === 0) await coll.updateOne({ _id: 'counter' }, { $inc: { n: 1 } }, { upsert: true });
      process.stdout.write(`ack ${i}\n`);
    }
  }
  for (let i = 0; i < job.count; i++) {
    await coll.insertOne({ tag: job.tag, i });
    await coll.updateOne({ _id: 'counter' }, { $inc: { n: 1 } }, { upsert: true });
  }
  await closeDataSources();
  if (parentPort) parentPort.postMessage('done');
}

main().catch((err: unknown) => {
  process.stderr.write(`writer-child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
