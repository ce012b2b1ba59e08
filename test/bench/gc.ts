/**
 * `npm run bench:gc`: how long a cascading deletion takes, per propagation policy, from the
 * DELETE of a tree's root until the garbage collector is done (every object gone for
 * Foreground and Background; the root gone and its children detached for Orphan). Not a
 * test: it prints figures and exits.
 *
 *   npm run bench:gc -- --trees 5 --fan-out 10
 *
 * Each tree is a root with `fan-out` children, each with `fan-out` children of its own
 * (1 + f + f² objects). Starts an in-memory control plane in this process, or measures
 * the one at SHOAL_SERVER (loopback only).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { assertLoopback, call, GROUP_VERSION, percentile, positiveInteger, printTable, runBenchmark, startLocalControlPlane } from './support.ts';

// A kind no other reconciler acts on: the figures are the collector's.
const PLURAL = 'metricsproviders';
const POLICIES = ['Foreground', 'Background', 'Orphan'] as const;
const TIMEOUT_MS = 300_000;

interface Owner {
  name: string;
  uid: string;
}

interface Listed {
  items: { metadata: { name: string; ownerReferences?: unknown[] } }[];
}

const collection = (namespace: string) => `/apis/${GROUP_VERSION}/namespaces/${namespace}/${PLURAL}`;

async function create(server: string, namespace: string, name: string, owner?: Owner): Promise<Owner> {
  const ownerReferences = owner ? [{ apiVersion: GROUP_VERSION, kind: 'MetricsProvider', name: owner.name, uid: owner.uid }] : undefined;
  const { body } = await call(server, 'POST', collection(namespace), {
    metadata: { name, ownerReferences },
    spec: { type: 'static', static: { metrics: { load: 0.5 } } },
  });
  return { name, uid: (body as { metadata: { uid: string } }).metadata.uid };
}

/** Root `root`, children `c<i>`, grandchildren `c<i>-<j>`; returns how many objects. */
async function createTree(server: string, namespace: string, fanOut: number): Promise<number> {
  const root = await create(server, namespace, 'root');
  const children = await Promise.all(Array.from({ length: fanOut }, (_, i) => create(server, namespace, `c${i}`, root)));
  await Promise.all(children.flatMap((child) => Array.from({ length: fanOut }, (_, j) => create(server, namespace, `${child.name}-${j}`, child))));
  return 1 + fanOut + fanOut * fanOut;
}

async function done(server: string, namespace: string, policy: (typeof POLICIES)[number]): Promise<boolean> {
  const { items } = (await call(server, 'GET', collection(namespace))).body as Listed;
  if (policy !== 'Orphan') return items.length === 0;
  const children = items.filter((item) => /^c\d+$/.test(item.metadata.name));
  return !items.some((item) => item.metadata.name === 'root') && children.every((child) => !child.metadata.ownerReferences?.length);
}

async function measure(server: string, run: string, policy: (typeof POLICIES)[number], tree: number, fanOut: number) {
  const namespace = `bench-gc-${run}-${policy.toLowerCase()}-${tree}`;
  const objects = await createTree(server, namespace, fanOut);
  const started = performance.now();
  await call(server, 'DELETE', `${collection(namespace)}/root?propagationPolicy=${policy}`);
  while (!(await done(server, namespace, policy))) {
    if (performance.now() - started > TIMEOUT_MS) throw new Error(`${policy} deletion of ${namespace} did not finish in ${TIMEOUT_MS / 1000} s`);
    await sleep(25);
  }
  const ms = performance.now() - started;
  if (policy === 'Orphan') {
    // Clean up what the orphan deletion kept, so later trees measure an equally empty table.
    const { items } = (await call(server, 'GET', collection(namespace))).body as Listed;
    await Promise.all(items.map((item) => call(server, 'DELETE', `${collection(namespace)}/${item.metadata.name}?propagationPolicy=Background`)));
  }
  return { ms, objects };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { trees: { type: 'string' }, 'fan-out': { type: 'string' } } });
  const trees = positiveInteger('trees', values.trees, 5);
  const fanOut = positiveInteger('fan-out', values['fan-out'], 10);
  const external = process.env.SHOAL_SERVER;
  if (external) assertLoopback(external);
  const controlPlane = external ? undefined : await startLocalControlPlane();
  const server = (external ?? controlPlane?.url ?? '').replace(/\/+$/, '');
  const run = randomBytes(3).toString('hex');
  try {
    const objects = 1 + fanOut + fanOut * fanOut;
    console.log(`Shoal garbage collector benchmark: ${server}, ${trees} trees per policy of ${objects} objects (fan-out ${fanOut}, depth 2)`);
    const rows: string[][] = [];
    for (const policy of POLICIES) {
      const times: number[] = [];
      for (let tree = 0; tree < trees; tree++) times.push((await measure(server, run, policy, tree, fanOut)).ms);
      const sorted = [...times].sort((a, b) => a - b);
      const median = percentile(sorted, 50);
      const handled = policy === 'Orphan' ? 1 + fanOut : objects;
      rows.push([policy, String(trees), String(handled), median.toFixed(0), (sorted.at(-1) ?? Number.NaN).toFixed(0), ((handled / median) * 1000).toFixed(0)]);
    }
    printTable(['POLICY', 'TREES', 'OBJECTS/TREE', 'P50 ms', 'MAX ms', 'OBJECTS/S'], rows);
    return 0;
  } finally {
    await controlPlane?.stop();
  }
}

await runBenchmark('bench:gc', main);
