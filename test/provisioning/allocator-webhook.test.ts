import { expect } from 'chai';
import type http from 'node:http';
import {
  AllocatorChainExtensions,
  type FilterCandidate,
  type FilterRequest,
} from '../../src/provisioning/index.js';
import { send } from '../../examples/kvm-farm/http.js';
import { FakeClock } from '../support/fakeclock.js';
import { request } from './helpers/fakes.js';
import { serve } from './helpers/servers.js';

type Reply = (body: FilterRequest, res: http.ServerResponse) => void;

/** An extender that keeps hosts with free `licenses/matlab` and orders them most-free first. */
const licenseExtender: Reply = (body, res) => {
  const free = (c: FilterCandidate) =>
    Number(c.capacity?.['licenses/matlab'] ?? 0) - Number(c.allocated?.['licenses/matlab'] ?? 0);
  const fit = body.candidates.filter((c) => free(c) > 0).sort((a, b) => free(b) - free(a));
  const failed = Object.fromEntries(
    body.candidates
      .filter((c) => free(c) <= 0)
      .map((c) => [c.name, 'Insufficient licenses/matlab']),
  );
  send(res, {
    status: 200,
    body: { kind: 'FilterResponse', candidates: fit.map((c) => c.name), failed },
  });
};

const candidates: FilterCandidate[] = [
  {
    name: 'p/h1',
    hostPool: 'p',
    host: 'h1',
    capacity: { 'licenses/matlab': '2' },
    allocated: { 'licenses/matlab': '2' },
  },
  {
    name: 'p/h2',
    hostPool: 'p',
    host: 'h2',
    capacity: { 'licenses/matlab': '4' },
    allocated: { 'licenses/matlab': '1' },
  },
  { name: 'p/h3', hostPool: 'p', host: 'h3', capacity: { 'licenses/matlab': '8' }, allocated: {} },
];

describe('webhook allocator (extender)', () => {
  let server: { url: string; close(): Promise<void> } | undefined;
  let reply: Reply = licenseExtender;
  let calls = 0;

  beforeEach(async () => {
    calls = 0;
    reply = licenseExtender;
    server = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        calls++;
        reply(JSON.parse(Buffer.concat(chunks).toString('utf8')) as FilterRequest, res);
      });
    });
  });
  afterEach(async () => {
    await server?.close();
  });

  function chain(extra: Record<string, unknown> = {}, clock = new FakeClock(Date.UTC(2026, 0, 1))) {
    return AllocatorChainExtensions.create(
      [
        {
          type: 'webhook',
          name: 'licenses',
          url: server!.url,
          timeoutSeconds: 0.3,
          retries: 1,
          retryBackoffMillis: 5,
          ...extra,
        },
        { type: 'firstFit' },
      ],
      'profiles[0].hostAllocators',
      ['firstFit'],
      { clock },
    );
  }

  it('filters and orders candidates; the engine gets a fixed order', async () => {
    let seen: FilterRequest | undefined;
    reply = (body, res) => {
      seen = body;
      licenseExtender(body, res);
    };
    const resolved = await chain().resolve({
      request: request('mat', 1),
      target: 'hosts',
      candidates,
    });
    expect(resolved).to.deep.equal([
      {
        type: 'fixedOrder',
        name: 'licenses',
        source: 'webhook',
        order: ['p/h3', 'p/h2'],
        failed: { 'p/h1': 'Insufficient licenses/matlab' },
      },
      { type: 'firstFit' },
    ]);
    expect(seen).to.deep.include({
      apiVersion: 'berth.dev/v1alpha1',
      kind: 'FilterRequest',
      allocator: 'licenses',
      target: 'hosts',
    });
    expect(seen?.request).to.deep.include({ namespace: 'ns', name: 'mat', count: 1 });
  });

  const faults: Array<[string, Reply, RegExp]> = [
    [
      'HTTP 500',
      (_b, res) => send(res, { status: 500, body: { message: 'db down' } }),
      /HTTP 500: db down \(after 2 attempts\)$/,
    ],
    ['malformed JSON', (_b, res) => res.end('{"candidates": ['), /malformed JSON in answer/],
    [
      'a candidate never sent',
      (_b, res) => send(res, { status: 200, body: { candidates: ['p/h9'] } }),
      /bad answer from http:\/\/127\.0\.0\.1:\d+\/provision: candidate "p\/h9" was not sent$/,
    ],
    ['a hung server', () => {}, /no answer within 300 ms \(after 2 attempts\)$/],
  ];
  for (const [what, r, message] of faults) {
    it(`turns ${what} into an empty order with the error, so the chain moves on`, async () => {
      reply = r;
      const [first] = await chain().resolve({
        request: request('f', 1),
        target: 'hosts',
        candidates,
      });
      expect(first).to.deep.include({ type: 'fixedOrder', order: [], failed: {} });
      expect((first as { error?: string }).error).to.match(message);
    });
  }

  it('is skipped during its cooldown after failureThreshold failures', async () => {
    reply = (_b, res) => send(res, { status: 503, body: { message: 'overloaded' } });
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    const c = chain({ retries: 0, failureThreshold: 2, cooldownSeconds: 30 }, clock);
    const input = { request: request('cd', 1), target: 'hosts' as const, candidates };
    await c.resolve(input);
    await c.resolve(input);
    expect(calls).to.equal(2);
    const [skipped] = await c.resolve(input);
    expect(calls).to.equal(2);
    expect((skipped as { error?: string }).error).to.match(
      /^skipped: cooling down after 2 consecutive failures/,
    );
    clock.advance(31_000);
    reply = licenseExtender;
    const [back] = await c.resolve(input);
    expect(calls).to.equal(3);
    expect(back).to.deep.include({ order: ['p/h3', 'p/h2'] });
  });

  it('passes the volume for a storage-pool chain', async () => {
    let seen: FilterRequest | undefined;
    reply = (body, res) => {
      seen = body;
      send(res, {
        status: 200,
        body: { candidates: body.candidates.map((c) => c.name).reverse() },
      });
    };
    const c = AllocatorChainExtensions.create(
      [{ type: 'webhook', url: server!.url }],
      'profiles[0].storageAllocators',
      ['localStorage'],
    );
    const [out] = await c.resolve({
      request: request('vol', 1),
      target: 'storagePools',
      volume: { name: 'data', size: '10Gi', tags: ['ssd'] },
      candidates: [
        { name: 'fast', scope: 'Cluster' },
        { name: 'slow', scope: 'Zone' },
      ],
    });
    expect(out).to.deep.include({
      name: 'profiles[0].storageAllocators[0]',
      order: ['slow', 'fast'],
    });
    expect(seen?.target).to.equal('storagePools');
    expect(seen?.volume).to.deep.equal({ name: 'data', size: '10Gi', tags: ['ssd'] });
  });
});
