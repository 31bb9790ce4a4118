// TenantQuota arithmetic, table-driven (covers, usageOf, firstViolation, usedBy, the summary), and
// the QuotaBook under fast-check: no interleaving of workers reserving, recording, failing and of
// requests being created and deleted ever takes a quota past its limits, and nothing is refused
// that would have fit.
// FC_RUNS raises the number of runs (e.g. FC_RUNS=2000 for a long soak).
import { expect } from 'chai';
import fc from 'fast-check';
import type { NodeStatus, ResourceRequest } from '../../src/api/index.js';
import {
  QuotaBook,
  covers,
  firstViolation,
  formatUsage,
  quotaSummary,
  usageOf,
  usedBy,
  type QuotaInfo,
  type QuotaSource,
} from '../../src/serving/quota.js';

const RUNS = Number(process.env['FC_RUNS'] ?? 100);

const UNIT = 1_000_000_000n;
const GI = 1024n ** 3n * UNIT;

const node = (name: string, state: NodeStatus['state'] = 'Running'): NodeStatus => ({
  name,
  provisioner: 'farm',
  address: '10.0.0.1',
  state,
});

interface RrOpts {
  ns?: string | undefined;
  profile?: string;
  cls?: string;
  resources?: Record<string, string | number>;
  volumes?: string[];
  nodes?: NodeStatus[];
  phase?: NonNullable<ResourceRequest['status']>['phase'];
}

const rr = (name: string, o: RrOpts = {}): ResourceRequest => {
  const namespace = 'ns' in o ? o.ns : 'team';
  return {
    apiVersion: 'berth.dev/v1alpha1',
    kind: 'ResourceRequest',
    metadata: { name, ...(namespace !== undefined ? { namespace } : {}) },
    spec: {
      count: Math.max(1, o.nodes?.length ?? 1),
      ...(o.profile ? { profile: o.profile } : {}),
      ...(o.cls ? { priorityClassName: o.cls } : {}),
      ...(o.resources ? { resources: o.resources } : {}),
      ...(o.volumes ? { volumes: o.volumes.map((size, i) => ({ name: `v${i}`, size })) } : {}),
    },
    ...(o.nodes || o.phase
      ? {
          status: {
            ...(o.nodes ? { nodes: o.nodes } : {}),
            ...(o.phase ? { phase: o.phase } : {}),
          },
        }
      : {}),
  };
};

const quota = (
  name: string,
  hard: Record<string, string | number>,
  more: Partial<QuotaInfo> = {},
): QuotaInfo => ({
  namespace: 'team',
  name,
  hard,
  ...more,
});

describe('quota: covers', () => {
  const cases: Array<{ name: string; q: QuotaInfo; r: ResourceRequest; want: boolean }> = [
    { name: 'same namespace, no scopes', q: quota('q', {}), r: rr('a'), want: true },
    { name: 'another namespace', q: quota('q', {}), r: rr('a', { ns: 'other' }), want: false },
    {
      name: 'a request without a namespace is not in a named one',
      q: quota('q', {}),
      r: rr('a', { ns: undefined }),
      want: false,
    },
    {
      name: 'profiles scope: listed profile',
      q: quota('q', {}, { profiles: ['gpu', 'cpu'] }),
      r: rr('a', { profile: 'gpu' }),
      want: true,
    },
    {
      name: 'profiles scope: unlisted profile',
      q: quota('q', {}, { profiles: ['gpu'] }),
      r: rr('a', { profile: 'cpu' }),
      want: false,
    },
    {
      name: 'profiles scope: no profile named is the default profile',
      q: quota('q', {}, { profiles: ['default'] }),
      r: rr('a'),
      want: true,
    },
    {
      name: 'profiles scope: no profile named, default not listed',
      q: quota('q', {}, { profiles: ['gpu'] }),
      r: rr('a'),
      want: false,
    },
    {
      name: 'priorityClasses scope: listed class',
      q: quota('q', {}, { priorityClasses: ['high', 'low'] }),
      r: rr('a', { cls: 'low' }),
      want: true,
    },
    {
      name: 'priorityClasses scope: unlisted class',
      q: quota('q', {}, { priorityClasses: ['high'] }),
      r: rr('a', { cls: 'low' }),
      want: false,
    },
    {
      name: 'priorityClasses scope: a request with no class is not covered',
      q: quota('q', {}, { priorityClasses: ['high'] }),
      r: rr('a'),
      want: false,
    },
    {
      name: 'no priorityClasses scope: a request with no class is covered',
      q: quota('q', {}),
      r: rr('a'),
      want: true,
    },
    {
      name: 'both scopes must hold: profile yes, class no',
      q: quota('q', {}, { profiles: ['gpu'], priorityClasses: ['high'] }),
      r: rr('a', { profile: 'gpu', cls: 'low' }),
      want: false,
    },
    {
      name: 'both scopes hold',
      q: quota('q', {}, { profiles: ['gpu'], priorityClasses: ['high'] }),
      r: rr('a', { profile: 'gpu', cls: 'high' }),
      want: true,
    },
    {
      name: 'empty profiles list covers nothing',
      q: quota('q', {}, { profiles: [] }),
      r: rr('a'),
      want: false,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(covers(c.q, c.r)).to.equal(c.want);
    });
});

describe('quota: usageOf', () => {
  const cases: Array<{
    name: string;
    r: ResourceRequest;
    nodes: number;
    names: string[];
    want: Record<string, bigint>;
  }> = [
    { name: 'nodes: a count', r: rr('a'), nodes: 3, names: ['nodes'], want: { nodes: 3n * UNIT } },
    {
      name: 'cpu per node times nodes (millicores)',
      r: rr('a', { resources: { cpu: '500m' } }),
      nodes: 4,
      names: ['cpu'],
      want: { cpu: 2n * UNIT },
    },
    {
      name: 'cpu as a number',
      r: rr('a', { resources: { cpu: 2 } }),
      nodes: 3,
      names: ['cpu'],
      want: { cpu: 6n * UNIT },
    },
    {
      name: 'memory',
      r: rr('a', { resources: { memory: '16Gi' } }),
      nodes: 2,
      names: ['memory'],
      want: { memory: 32n * GI },
    },
    {
      name: 'storage: the volumes of a node summed, times nodes',
      r: rr('a', { volumes: ['10Gi', '5Gi'] }),
      nodes: 2,
      names: ['storage'],
      want: { storage: 30n * GI },
    },
    {
      name: 'storage without volumes: 0',
      r: rr('a', { resources: { cpu: '1' } }),
      nodes: 2,
      names: ['storage'],
      want: { storage: 0n },
    },
    {
      name: 'an extended resource',
      r: rr('a', { resources: { 'nvidia.com/gpu': '2' } }),
      nodes: 3,
      names: ['nvidia.com/gpu'],
      want: { 'nvidia.com/gpu': 6n * UNIT },
    },
    {
      name: 'a resource not asked: 0',
      r: rr('a', { resources: { cpu: '1' } }),
      nodes: 5,
      names: ['memory', 'nvidia.com/gpu'],
      want: { memory: 0n, 'nvidia.com/gpu': 0n },
    },
    {
      name: 'only the names given, all of them',
      r: rr('a', { resources: { cpu: '1', memory: '1Gi' }, volumes: ['1Gi'] }),
      nodes: 2,
      names: ['nodes', 'cpu', 'memory', 'storage'],
      want: { nodes: 2n * UNIT, cpu: 2n * UNIT, memory: 2n * GI, storage: 2n * GI },
    },
    {
      name: 'zero nodes: zero of everything',
      r: rr('a', { resources: { cpu: '4' }, volumes: ['1Gi'] }),
      nodes: 0,
      names: ['nodes', 'cpu', 'storage'],
      want: { nodes: 0n, cpu: 0n, storage: 0n },
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      expect(Object.fromEntries(usageOf(c.r, c.nodes, c.names))).to.deep.equal(c.want);
    });
});

describe('quota: firstViolation', () => {
  const used =
    (by: Record<string, Record<string, bigint>>) =>
    (q: QuotaInfo): ReadonlyMap<string, bigint> =>
      new Map(Object.entries(by[q.name] ?? {}));

  it('names the quota, the resource, what is used, asked and the limit', () => {
    const v = firstViolation(
      [quota('compute', { cpu: '8' })],
      used({ compute: { cpu: 6n * UNIT } }),
      rr('a', { resources: { cpu: '2' } }),
      2,
    );
    expect(v).to.deep.equal({
      quota: 'team/compute',
      resource: 'cpu',
      used: '6',
      asked: '4',
      hard: '8',
      message: 'TenantQuota team/compute: cpu used 6 + asked 4 would exceed hard 8',
    });
  });

  it('shows memory and storage in binary units', () => {
    const v = firstViolation(
      [quota('mem', { memory: '64Gi' })],
      used({ mem: { memory: 48n * GI } }),
      rr('a', { resources: { memory: '16Gi' } }),
      2,
    );
    expect(v?.message).to.equal(
      'TenantQuota team/mem: memory used 48Gi + asked 32Gi would exceed hard 64Gi',
    );
    const s = firstViolation(
      [quota('disk', { storage: '100Gi' })],
      used({}),
      rr('a', { volumes: ['60Gi'] }),
      2,
    );
    expect(s?.message).to.equal(
      'TenantQuota team/disk: storage used 0 + asked 120Gi would exceed hard 100Gi',
    );
  });

  const cases: Array<{
    name: string;
    quotas: QuotaInfo[];
    used: Record<string, Record<string, bigint>>;
    r: ResourceRequest;
    adding: number;
    want: { quota: string; resource: string } | undefined;
  }> = [
    {
      name: 'exactly at the limit is allowed',
      quotas: [quota('q', { nodes: 4, cpu: '8' })],
      used: { q: { nodes: 2n * UNIT, cpu: 4n * UNIT } },
      r: rr('a', { resources: { cpu: '2' } }),
      adding: 2,
      want: undefined,
    },
    {
      name: 'one past the node limit',
      quotas: [quota('q', { nodes: 4 })],
      used: { q: { nodes: 3n * UNIT } },
      r: rr('a'),
      adding: 2,
      want: { quota: 'team/q', resource: 'nodes' },
    },
    {
      name: 'an extended resource limit',
      quotas: [quota('gpus', { 'nvidia.com/gpu': 4 })],
      used: { gpus: { 'nvidia.com/gpu': 2n * UNIT } },
      r: rr('a', { resources: { 'nvidia.com/gpu': '1' } }),
      adding: 3,
      want: { quota: 'team/gpus', resource: 'nvidia.com/gpu' },
    },
    {
      name: 'a quota already over its cpu limit blocks an ask with cpu',
      quotas: [quota('q', { cpu: '8', memory: '64Gi' })],
      used: { q: { cpu: 10n * UNIT } },
      r: rr('a', { resources: { cpu: '1' } }),
      adding: 1,
      want: { quota: 'team/q', resource: 'cpu' },
    },
    {
      name: 'a quota already over its cpu limit does not block an ask without cpu',
      quotas: [quota('q', { cpu: '8', memory: '64Gi' })],
      used: { q: { cpu: 10n * UNIT } },
      r: rr('a', { resources: { memory: '1Gi' } }),
      adding: 1,
      want: undefined,
    },
    {
      name: 'a limit of 0 blocks any ask of it',
      quotas: [quota('q', { 'nvidia.com/gpu': 0 })],
      used: {},
      r: rr('a', { resources: { 'nvidia.com/gpu': '1' } }),
      adding: 1,
      want: { quota: 'team/q', resource: 'nvidia.com/gpu' },
    },
    {
      name: 'a limit of 0 does not block what does not ask it',
      quotas: [quota('q', { 'nvidia.com/gpu': 0 })],
      used: {},
      r: rr('a', { resources: { cpu: '1' } }),
      adding: 1,
      want: undefined,
    },
    {
      name: 'quotas are checked in name order',
      quotas: [
        quota('zeta', { nodes: 1 }),
        quota('alpha', { nodes: 1 }),
        quota('mid', { nodes: 1 }),
      ],
      used: {},
      r: rr('a'),
      adding: 2,
      want: { quota: 'team/alpha', resource: 'nodes' },
    },
    {
      name: 'resources of a quota are checked in name order',
      quotas: [quota('q', { nodes: 1, memory: '1Gi', cpu: '1' })],
      used: {},
      r: rr('a', { resources: { cpu: '2', memory: '2Gi' } }),
      adding: 2,
      want: { quota: 'team/q', resource: 'cpu' },
    },
    {
      name: 'a quota that does not cover the request is skipped',
      quotas: [quota('a-gpu', { nodes: 0 }, { profiles: ['gpu'] }), quota('b', { nodes: 1 })],
      used: {},
      r: rr('a'),
      adding: 2,
      want: { quota: 'team/b', resource: 'nodes' },
    },
    {
      name: "another namespace's quota is skipped",
      quotas: [{ ...quota('q', { nodes: 0 }), namespace: 'other' }],
      used: {},
      r: rr('a'),
      adding: 1,
      want: undefined,
    },
    {
      name: 'a resource not limited is not checked',
      quotas: [quota('q', { nodes: 10 })],
      used: {},
      r: rr('a', { resources: { cpu: '1000' } }),
      adding: 5,
      want: undefined,
    },
    {
      name: 'adding nothing passes nothing',
      quotas: [quota('q', { nodes: 0 })],
      used: { q: { nodes: 5n * UNIT } },
      r: rr('a'),
      adding: 0,
      want: undefined,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const v = firstViolation(c.quotas, used(c.used), c.r, c.adding);
      expect(v ? { quota: v.quota, resource: v.resource } : undefined).to.deep.equal(c.want);
    });
});

describe('quota: usedBy, quotaSummary, formatUsage', () => {
  const q = quota('q', { nodes: 10, cpu: '16', memory: '64Gi', storage: '1Ti' });
  const requests = [
    rr('a', {
      resources: { cpu: '2', memory: '4Gi' },
      volumes: ['10Gi'],
      nodes: [node('a-0'), node('a-1')],
    }),
    // Released nodes hold nothing; Releasing and Failed ones still do.
    rr('b', {
      resources: { cpu: '1' },
      nodes: [node('b-0', 'Released'), node('b-1', 'Releasing'), node('b-2', 'Failed')],
    }),
    // An Expired request holds what it has not released yet.
    rr('c', {
      resources: { cpu: '8' },
      nodes: [node('c-0', 'Releasing'), node('c-1', 'Released')],
      phase: 'Expired',
    }),
    // Another namespace.
    rr('d', { ns: 'other', resources: { cpu: '8' }, nodes: [node('d-0')] }),
    // Pending, nothing recorded.
    rr('e', { resources: { cpu: '8' } }),
  ];

  it('usedBy counts the covered requests’ held nodes', () => {
    expect(Object.fromEntries(usedBy(q, requests))).to.deep.equal({
      nodes: 5n * UNIT,
      cpu: 14n * UNIT,
      memory: 8n * GI,
      storage: 20n * GI,
    });
  });

  it('usedBy of nothing is zero for every limited resource', () => {
    expect(Object.fromEntries(usedBy(q, []))).to.deep.equal({
      nodes: 0n,
      cpu: 0n,
      memory: 0n,
      storage: 0n,
    });
  });

  it('quotaSummary: used/hard per resource, in name order', () => {
    expect(quotaSummary(q, usedBy(q, requests))).to.equal(
      'cpu: 14/16, memory: 8Gi/64Gi, nodes: 5/10, storage: 20Gi/1Ti',
    );
    expect(quotaSummary(quota('g', { 'nvidia.com/gpu': 4, cpu: '2500m' }), new Map())).to.equal(
      'cpu: 0/2500m, nvidia.com/gpu: 0/4',
    );
  });

  it('formatUsage: canonical quantities, in name order', () => {
    const out = formatUsage(
      new Map([
        ['nodes', 3n * UNIT],
        ['memory', 1536n * 1024n * 1024n * UNIT],
        ['cpu', 1500n * 1_000_000n],
      ]),
    );
    expect(out).to.deep.equal({ cpu: '1500m', memory: '1536Mi', nodes: '3' });
    expect(Object.keys(out)).to.deep.equal(['cpu', 'memory', 'nodes']);
  });
});

// ---- QuotaBook --------------------------------------------------------------------------------

/** An in-memory namespace store: quotas, and requests as they are (own writes included). */
class Store implements QuotaSource {
  readonly live = new Map<string, ResourceRequest>();
  private uid = 0;

  constructor(readonly all: readonly QuotaInfo[]) {}

  quotas(namespace: string): readonly QuotaInfo[] {
    return this.all.filter((q) => q.namespace === namespace);
  }

  requests(namespace: string): Iterable<ResourceRequest> {
    return [...this.live.values()].filter((r) => r.metadata.namespace === namespace);
  }

  create(ns: string, t: Template): ResourceRequest {
    const uid = `u${this.uid++}`;
    const r: ResourceRequest = {
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'ResourceRequest',
      metadata: { name: `r${uid}`, namespace: ns, uid },
      spec: {
        count: 1,
        ...(t.profile ? { profile: t.profile } : {}),
        ...(t.cls ? { priorityClassName: t.cls } : {}),
        resources: t.resources,
        ...(t.volumes.length
          ? { volumes: t.volumes.map((size, i) => ({ name: `v${i}`, size })) }
          : {}),
      },
    };
    this.live.set(uid, r);
    return r;
  }

  /** Records `n` more nodes in the request's status (a new object, as the cache would hold). */
  record(uid: string, n: number): void {
    const r = this.live.get(uid);
    if (!r) return;
    const nodes = [...(r.status?.nodes ?? [])];
    for (let i = 0; i < n; i++) nodes.push(node(`${r.metadata.name}-${nodes.length}`));
    this.live.set(uid, {
      ...r,
      spec: { ...r.spec, count: nodes.length },
      status: { ...r.status, nodes },
    });
  }

  /** Marks the first held node of the request Released. */
  releaseOne(uid: string): void {
    const r = this.live.get(uid);
    const nodes = r?.status?.nodes;
    const i = nodes?.findIndex((n) => n.state !== 'Released') ?? -1;
    if (!r || !nodes || i < 0) return;
    const next = nodes.map((n, j) => (j === i ? { ...n, state: 'Released' as const } : n));
    this.live.set(uid, { ...r, status: { ...r.status, nodes: next } });
  }
}

interface Template {
  profile?: string;
  cls?: string;
  resources: Record<string, string>;
  volumes: string[];
  /** Per node, in plain units (cores, Gi, Gi, gpus), for the independent oracle. */
  per: { cpu: number; memory: number; storage: number; gpu: number };
}

const templateArb: fc.Arbitrary<Template> = fc
  .record({
    profile: fc.option(fc.constantFrom('default', 'gpu'), { nil: undefined }),
    cls: fc.option(fc.constantFrom('high', 'low'), { nil: undefined }),
    cpu: fc.integer({ min: 0, max: 4 }),
    milli: fc.boolean(),
    memory: fc.integer({ min: 0, max: 8 }),
    mebi: fc.boolean(),
    gpu: fc.integer({ min: 0, max: 2 }),
    volumes: fc.array(fc.integer({ min: 1, max: 20 }), { maxLength: 2 }),
  })
  .map((t) => {
    const resources: Record<string, string> = {};
    if (t.cpu) resources['cpu'] = t.milli ? `${t.cpu * 1000}m` : `${t.cpu}`;
    if (t.memory) resources['memory'] = t.mebi ? `${t.memory * 1024}Mi` : `${t.memory}Gi`;
    if (t.gpu) resources['nvidia.com/gpu'] = `${t.gpu}`;
    return {
      ...(t.profile ? { profile: t.profile } : {}),
      ...(t.cls ? { cls: t.cls } : {}),
      resources,
      volumes: t.volumes.map((v) => `${v}Gi`),
      per: {
        cpu: t.cpu,
        memory: t.memory,
        storage: t.volumes.reduce((a, b) => a + b, 0),
        gpu: t.gpu,
      },
    };
  });

const RESOURCES = ['nodes', 'cpu', 'memory', 'storage', 'nvidia.com/gpu'] as const;
type Res = (typeof RESOURCES)[number];

/** A quota with its limits in plain units, for the oracle. */
interface ModelQuota {
  info: QuotaInfo;
  limits: Partial<Record<Res, number>>;
}

const quotaArb = (namespace: string, name: string): fc.Arbitrary<ModelQuota> =>
  fc
    .record({
      nodes: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
      cpu: fc.option(fc.integer({ min: 0, max: 16 }), { nil: undefined }),
      memory: fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }),
      storage: fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
      'nvidia.com/gpu': fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
      profiles: fc.option(fc.subarray(['default', 'gpu'], { minLength: 1 }), { nil: undefined }),
      priorityClasses: fc.option(fc.subarray(['high', 'low'], { minLength: 1 }), {
        nil: undefined,
      }),
    })
    .map((g) => {
      const limits: Partial<Record<Res, number>> = {};
      const hard: Record<string, string | number> = {};
      for (const r of RESOURCES) {
        const v = g[r];
        if (v === undefined) continue;
        limits[r] = v;
        hard[r] = r === 'memory' || r === 'storage' ? `${v}Gi` : r === 'cpu' ? `${v}` : v;
      }
      return {
        info: {
          namespace,
          name,
          hard,
          ...(g.profiles ? { profiles: g.profiles } : {}),
          ...(g.priorityClasses ? { priorityClasses: g.priorityClasses } : {}),
        },
        limits,
      };
    });

const quotasArb: fc.Arbitrary<ModelQuota[]> = fc
  .tuple(fc.subarray(['a', 'b', 'c'], { minLength: 1 }), fc.boolean())
  .chain(([names, other]) =>
    fc.tuple(...names.map((n) => quotaArb('team', n)), ...(other ? [quotaArb('other', 'a')] : [])),
  );

/** The independent oracle: what `q` covers and counts over the store, in plain units. */
function modelCovers(q: QuotaInfo, r: ResourceRequest): boolean {
  if (r.metadata.namespace !== q.namespace) return false;
  if (q.profiles && !q.profiles.includes(r.spec.profile ?? 'default')) return false;
  if (q.priorityClasses && !q.priorityClasses.includes(r.spec.priorityClassName ?? ''))
    return false;
  return true;
}

function modelUsed(
  q: ModelQuota,
  store: Store,
  templates: ReadonlyMap<string, Template>,
  extra?: { r: ResourceRequest; adding: number },
): Record<Res, number> {
  const out: Record<Res, number> = { nodes: 0, cpu: 0, memory: 0, storage: 0, 'nvidia.com/gpu': 0 };
  const add = (r: ResourceRequest, n: number) => {
    if (!modelCovers(q.info, r)) return;
    const t = templates.get(r.metadata.uid!)!;
    out.nodes += n;
    out.cpu += t.per.cpu * n;
    out.memory += t.per.memory * n;
    out.storage += t.per.storage * n;
    out['nvidia.com/gpu'] += t.per.gpu * n;
  };
  for (const r of store.live.values())
    add(r, (r.status?.nodes ?? []).filter((x) => x.state !== 'Released').length);
  if (extra) add(extra.r, extra.adding);
  return out;
}

const toNanos = (r: Res, v: number): bigint =>
  r === 'memory' || r === 'storage' ? BigInt(v) * GI : BigInt(v) * UNIT;

/** Every quota within its limits, and usedBy agreeing with the oracle. */
function checkQuotas(
  quotas: readonly ModelQuota[],
  store: Store,
  templates: ReadonlyMap<string, Template>,
) {
  for (const q of quotas) {
    const model = modelUsed(q, store, templates);
    const counted = usedBy(q.info, store.requests(q.info.namespace));
    for (const r of RESOURCES) {
      const limit = q.limits[r];
      if (limit === undefined) continue;
      expect(model[r], `${q.info.namespace}/${q.info.name} ${r}`).to.be.at.most(limit);
      expect(counted.get(r), `usedBy ${r}`).to.equal(toNanos(r, model[r]));
    }
  }
}

type Op =
  | { kind: 'create'; ns: string; template: number }
  | { kind: 'serve'; worker: number; request: number; adding: number }
  | { kind: 'commit'; worker: number }
  | { kind: 'fail'; worker: number }
  | { kind: 'delete'; request: number }
  | { kind: 'releaseNode'; request: number };

const WORKERS = 3;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      ns: fc.constantFrom('team', 'team', 'other'),
      template: fc.nat(3),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('serve' as const),
      worker: fc.nat(WORKERS - 1),
      request: fc.nat(20),
      adding: fc.integer({ min: 1, max: 3 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('commit' as const), worker: fc.nat(WORKERS - 1) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('fail' as const), worker: fc.nat(WORKERS - 1) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('delete' as const), request: fc.nat(20) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('releaseNode' as const), request: fc.nat(20) }),
    weight: 1,
  },
);

describe('quota: QuotaBook', () => {
  it('a reservation counts until released; then what is on record counts', () => {
    const q = quota('q', { nodes: 3 });
    const store = new Store([q]);
    const templates = {
      resources: {},
      volumes: [],
      per: { cpu: 0, memory: 0, storage: 0, gpu: 0 },
    };
    const a = store.create('team', templates);
    const b = store.create('team', templates);
    const book = new QuotaBook(store);
    const ra = book.reserve(a, 2);
    expect(ra.ok).to.equal(true);
    expect(book.inFlight()).to.equal(1);
    expect(book.used(q).get('nodes')).to.equal(2n * UNIT);
    // The second worker sees the first's reservation: it waits (the first may come to nothing),
    // and nothing is said on it.
    const rb = book.reserve(b, 2);
    expect(rb).to.deep.equal({ ok: false, contended: true });
    expect(book.reserve(b, 1).ok).to.equal(true);
    expect(book.inFlight()).to.equal(2);
    // On record, then released: counted once.
    store.record(a.metadata.uid!, 2);
    if (ra.ok) {
      ra.release();
      ra.release(); // idempotent
    }
    expect(book.inFlight()).to.equal(1);
    expect(book.used(q).get('nodes')).to.equal(3n * UNIT);
  });

  it('a failed allocation gives its reservation back', () => {
    const q = quota('q', { nodes: 1 });
    const store = new Store([q]);
    const t = { resources: {}, volumes: [], per: { cpu: 0, memory: 0, storage: 0, gpu: 0 } };
    const a = store.create('team', t);
    const book = new QuotaBook(store);
    const r = book.reserve(a, 1);
    expect(book.reserve(a, 1).ok).to.equal(false);
    if (r.ok) r.release();
    expect(book.reserve(a, 1).ok).to.equal(true);
  });

  it('no quota in the namespace, or nothing added: always ok, nothing held', () => {
    const store = new Store([quota('q', { nodes: 0 })]);
    const t = { resources: {}, volumes: [], per: { cpu: 0, memory: 0, storage: 0, gpu: 0 } };
    const book = new QuotaBook(store);
    expect(book.reserve(store.create('other', t), 5).ok).to.equal(true);
    expect(book.reserve(store.create('team', t), 0).ok).to.equal(true);
    expect(book.inFlight()).to.equal(0);
  });

  it('quotas are never exceeded under any interleaving of create/delete of requests across workers', () => {
    fc.assert(
      fc.property(
        quotasArb,
        fc.array(templateArb, { minLength: 4, maxLength: 4 }),
        fc.array(opArb, { maxLength: 60 }),
        (quotas, templateList, ops) => {
          const store = new Store(quotas.map((q) => q.info));
          const book = new QuotaBook(store);
          const templates = new Map<string, Template>();
          const workers: Array<
            { uid: string; adding: number; held: boolean; release: () => void } | undefined
          > = Array.from({ length: WORKERS }, () => undefined);
          const created: string[] = [];
          const pick = (i: number): string | undefined => {
            const live = created.filter((u) => store.live.has(u));
            return live.length ? live[i % live.length] : undefined;
          };

          for (const op of ops) {
            switch (op.kind) {
              case 'create': {
                const t = templateList[op.template]!;
                const r = store.create(op.ns, t);
                templates.set(r.metadata.uid!, t);
                created.push(r.metadata.uid!);
                break;
              }
              case 'serve': {
                if (workers[op.worker]) break; // busy
                const uid = pick(op.request);
                if (!uid) break;
                const r = store.live.get(uid)!;
                const res = book.reserve(r, op.adding);
                if (res.ok)
                  workers[op.worker] = {
                    uid,
                    adding: op.adding,
                    // Without a quota in the namespace nothing is held.
                    held: store.quotas(r.metadata.namespace!).length > 0,
                    release: res.release,
                  };
                else if ('violation' in res) {
                  // A verdict rests on what is on record alone: with nothing in flight, the ask
                  // would still pass a limit of a covering quota.
                  const q = quotas.find(
                    (m) => `${m.info.namespace}/${m.info.name}` === res.violation.quota,
                  )!;
                  const after = modelUsed(q, store, templates, { r, adding: op.adding });
                  expect(after[res.violation.resource as Res]).to.be.above(
                    q.limits[res.violation.resource as Res]!,
                  );
                }
                break;
              }
              case 'commit': {
                const w = workers[op.worker];
                if (!w) break;
                store.record(w.uid, w.adding); // a no-op when deleted meanwhile
                w.release();
                workers[op.worker] = undefined;
                break;
              }
              case 'fail': {
                workers[op.worker]?.release();
                workers[op.worker] = undefined;
                break;
              }
              case 'delete': {
                const uid = pick(op.request);
                if (uid) store.live.delete(uid);
                break;
              }
              case 'releaseNode': {
                const uid = pick(op.request);
                if (uid) store.releaseOne(uid);
                break;
              }
            }
            checkQuotas(quotas, store, templates);
            expect(book.inFlight()).to.equal(workers.filter((w) => w?.held).length);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('quotas are never exceeded with async workers interleaved by a scheduler', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        quotasArb,
        fc.array(
          fc.record({
            template: templateArb,
            ns: fc.constantFrom('team', 'team', 'other'),
            adding: fc.integer({ min: 1, max: 3 }),
            fails: fc.boolean(),
            deleteEarly: fc.boolean(),
            deleteAfter: fc.boolean(),
          }),
          { maxLength: 8 },
        ),
        async (s, quotas, jobs) => {
          const store = new Store(quotas.map((q) => q.info));
          const book = new QuotaBook(store);
          const templates = new Map<string, Template>();
          const check = () => checkQuotas(quotas, store, templates);
          const step = (label: string) => s.schedule(Promise.resolve(label));

          const deleter = async (uid: string) => {
            await step(`delete ${uid}`);
            store.live.delete(uid);
            check();
          };
          const worker = async (job: (typeof jobs)[number]) => {
            await step('create');
            const r = store.create(job.ns, job.template);
            const uid = r.metadata.uid!;
            templates.set(uid, job.template);
            const racing = job.deleteEarly ? deleter(uid) : Promise.resolve();
            await step(`serve ${uid}`);
            const current = store.live.get(uid);
            if (current) {
              const res = book.reserve(current, job.adding);
              if (res.ok)
                try {
                  await step(`provision ${uid}`);
                  if (!job.fails) {
                    await step(`write ${uid}`);
                    store.record(uid, job.adding);
                    check();
                  }
                } finally {
                  res.release();
                }
            }
            await racing;
            if (job.deleteAfter) await deleter(uid);
          };
          await s.waitFor(Promise.all(jobs.map(worker)));
          check();
          expect(book.inFlight()).to.equal(0);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('no false refusals: with nothing in flight, reserve refuses exactly what passes a limit', () => {
    fc.assert(
      fc.property(
        quotasArb,
        fc.array(
          fc.tuple(templateArb, fc.constantFrom('team', 'other'), fc.integer({ min: 0, max: 3 })),
          {
            maxLength: 6,
          },
        ),
        templateArb,
        fc.constantFrom('team', 'other'),
        fc.integer({ min: 1, max: 4 }),
        (quotas, existing, t, ns, adding) => {
          const store = new Store(quotas.map((q) => q.info));
          const templates = new Map<string, Template>();
          for (const [et, ens, n] of existing) {
            const r = store.create(ens, et);
            templates.set(r.metadata.uid!, et);
            store.record(r.metadata.uid!, n);
          }
          const r = store.create(ns, t);
          templates.set(r.metadata.uid!, t);
          // The oracle: a covering quota with a limited resource this ask adds to and passes.
          // (A quota already over a limit the ask does not add to does not block.)
          const passes = quotas.flatMap((q) => {
            if (!modelCovers(q.info, r)) return [];
            const before = modelUsed(q, store, templates);
            const after = modelUsed(q, store, templates, { r, adding });
            return RESOURCES.filter(
              (res) =>
                q.limits[res] !== undefined &&
                after[res] > before[res] &&
                after[res] > q.limits[res]!,
            ).map((res) => `${q.info.namespace}/${q.info.name} ${res}`);
          });
          const book = new QuotaBook(store);
          const out = book.reserve(r, adding);
          if (out.ok) {
            expect(passes, 'accepted though it passes a limit').to.deep.equal([]);
            expect(book.inFlight()).to.equal(store.quotas(ns).length ? 1 : 0);
          } else {
            // Nothing is in flight in a fresh book: every refusal is a verdict.
            if (!('violation' in out)) throw new Error('contended with nothing in flight');
            expect(passes).to.include(`${out.violation.quota} ${out.violation.resource}`);
            expect(book.inFlight()).to.equal(0);
          }
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });
});
