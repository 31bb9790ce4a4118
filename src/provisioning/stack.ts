// The provisioner stack (VURM's semantics, minus its leak on spawn failure): ask each provisioner in
// order for what is still missing, keep everything, stop when full. Below minCount, or when any
// spawn fails, everything obtained is released exactly once. A provisioner that throws, hangs past
// its deadline or breaks the contract is an error in the explanation and the stack moves on.
import { createHash } from 'node:crypto';
import { ProvisionerError, ProvisionerUnavailableError, describeError } from './errors.js';
import {
  MAX_HOST_REASONS,
  PROVISIONER_UNAVAILABLE,
  capLine,
  formatEntry,
  type ProvisionerExplanation,
} from './stack-explanation.js';
import type {
  Logger,
  NodeRecord,
  ProvisionContext,
  ProvisionedNode,
  Provisioner,
  ProvisionerReport,
  RequestRef,
} from './types.js';
import { silentLogger } from './types.js';

export type StackOutcome = 'Provisioned' | 'Insufficient' | 'SpawnFailed' | 'Aborted';

/** A node whose release failed: keep `record` in status (state `Releasing`) and retry later. */
export interface ReleaseFailure {
  name: string;
  provisioner: string;
  error: string;
  record: NodeRecord;
}

export interface StackExplanation {
  summary: string;
  provisioners: ProvisionerExplanation[];
  /** Hosts not used and why, from every provisioner that reports hosts; capped. */
  hosts?: Array<{ host: string; reason: string }>;
}

export interface StackResult {
  outcome: StackOutcome;
  count: number;
  minCount: number;
  /** The running nodes when `outcome` is `Provisioned`; empty otherwise. */
  nodes: ProvisionedNode[];
  explanation: StackExplanation;
  /** How many nodes were obtained and then given back by this run. */
  released: number;
  releaseFailures: ReleaseFailure[];
}

export interface StackOptions {
  signal?: AbortSignal;
  logger?: Logger;
  /**
   * Longest wait for one provisioner's getNodes. Nodes that arrive after it are released in the
   * background (and logged) so a slow provisioner can neither stall the stack nor leak.
   */
  getNodesTimeoutMs?: number;
  /**
   * A scale-up: the names of the nodes still missing (the request already holds others). The run
   * asks for exactly these; `minCount` is then what the run must reach for its nodes to be kept
   * (the request's minCount less what it holds), not the request's own.
   */
  names?: readonly string[];
  minCount?: number;
}

export const DEFAULT_GET_NODES_TIMEOUT_MS = 120_000;

/**
 * The first `n` node names of `request` that `taken` does not hold, lowest index first: what a
 * scale-up asks for, so names stay `<request>-<index>` and never repeat within the request.
 */
export function freeNodeNames(
  request: RequestRef,
  taken: ReadonlySet<string>,
  n: number,
): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const name = nodeName(request, i);
    if (!taken.has(name)) out.push(name);
  }
  return out;
}

/** Node names are DNS labels in status (`status.nodes[].name`). */
export const MAX_NODE_NAME = 63;

/**
 * `<request>-<index>`: stable across retries, unique within the request. A request name may be a
 * 253-character DNS subdomain; such a name is made a label (dots become dashes) and, when still
 * too long, cut and suffixed with a hash of the whole name so two long names never collide.
 */
export function nodeName(request: RequestRef, index: number): string {
  const suffix = `-${index}`;
  const plain = request.metadata.name.replace(/\./g, '-');
  if (plain.length + suffix.length <= MAX_NODE_NAME && plain === request.metadata.name) {
    return `${plain}${suffix}`;
  }
  const hash = createHash('sha256').update(request.metadata.name).digest('hex').slice(0, 8);
  const room = MAX_NODE_NAME - suffix.length - hash.length - 1;
  const stem = plain.slice(0, room).replace(/-+$/, '');
  return `${stem}-${hash}${suffix}`;
}

export function minCountOf(request: RequestRef): number {
  const { count, minCount } = request.spec;
  return Math.min(count, Math.max(0, minCount ?? count));
}

export async function runStack(
  provisioners: readonly Provisioner[],
  request: RequestRef,
  options: StackOptions = {},
): Promise<StackResult> {
  const count = options.names ? options.names.length : request.spec.count;
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`spec.count must be a non-negative integer, got ${String(count)}`);
  }
  const minCount = Math.min(count, options.minCount ?? minCountOf(request));
  const signal = options.signal ?? new AbortController().signal;
  const logger = options.logger ?? silentLogger;
  const deadline = options.getNodesTimeoutMs ?? DEFAULT_GET_NODES_TIMEOUT_MS;

  const kept: ProvisionedNode[] = [];
  const entries: ProvisionerExplanation[] = [];
  const releaseFailures: ReleaseFailure[] = [];
  const hosts: Array<{ host: string; reason: string }> = [];
  let freeNames = options.names
    ? [...options.names]
    : Array.from({ length: count }, (_, i) => nodeName(request, i));

  for (const p of provisioners) {
    if (kept.length >= count || signal.aborted) break;
    const asked = count - kept.length;
    const names = freeNames.slice(0, asked);
    const entry: ProvisionerExplanation = { provisioner: p.name, type: p.type, asked, got: 0 };
    entries.push(entry);

    const availability = safeAvailability(p);
    if (!availability.available) {
      entry.error = capLine(`skipped: ${availability.reason ?? 'unavailable'}`);
      entry.reasons = { [PROVISIONER_UNAVAILABLE]: asked };
      continue;
    }

    let report: ProvisionerReport | undefined;
    const ctx: ProvisionContext = {
      request,
      names,
      signal,
      report: (r) => {
        report = r;
      },
    };
    let nodes: unknown;
    try {
      nodes = await withDeadline(p, asked, ctx, deadline, logger);
    } catch (err) {
      entry.error = capLine(describeError(err));
      entry.reasons = { [PROVISIONER_UNAVAILABLE]: asked };
      if (err instanceof ProvisionerError) {
        for (const u of err.unreleased) {
          releaseFailures.push({
            name: u.name,
            provisioner: p.name,
            error: u.error,
            record: orphanRecord(u.name, p.name),
          });
        }
      }
      continue;
    }

    const problem = checkNodes(nodes, names);
    if (problem) {
      const returned = releasable(nodes);
      const { failures } = await releaseAll(returned);
      releaseFailures.push(...failures);
      entry.error = capLine(
        `misbehaved: ${problem}; released ${returned.length - failures.length} of ${returned.length} returned`,
      );
      continue;
    }
    const got = nodes as ProvisionedNode[];
    kept.push(...got);
    const used = new Set(got.map((n) => n.name));
    freeNames = freeNames.filter((n) => !used.has(n));
    entry.got = got.length;
    if (report?.reasons && Object.keys(report.reasons).length)
      entry.reasons = { ...report.reasons };
    if (report?.summary) entry.summary = capLine(report.summary);
    if (report?.allocators?.length) entry.allocators = report.allocators.map((a) => ({ ...a }));
    for (const h of report?.hosts ?? []) {
      if (hosts.length < MAX_HOST_REASONS) hosts.push({ host: h.host, reason: h.reason });
    }
  }
  const explain = (summary: string): StackExplanation => ({
    summary,
    provisioners: entries,
    ...(hosts.length ? { hosts } : {}),
  });

  // Keep status order independent of which provisioner answered first.
  kept.sort((a, b) => nameIndex(a.name) - nameIndex(b.name));

  const finish = async (outcome: StackOutcome, why: string): Promise<StackResult> => {
    const { released, failures } = await releaseAll(kept);
    releaseFailures.push(...failures);
    const summary = capLine(
      `${kept.length}/${count} nodes, ${why}` +
        (kept.length ? `; released ${released}` : '') +
        (failures.length ? `, ${failures.length} release failed` : '') +
        tail(entries),
    );
    return {
      outcome,
      count,
      minCount,
      nodes: [],
      explanation: explain(summary),
      released,
      releaseFailures,
    };
  };

  if (signal.aborted) return finish('Aborted', 'aborted');
  if (kept.length < minCount) return finish('Insufficient', `fewer than minCount ${minCount}`);

  const spawns = await Promise.allSettled(kept.map((n) => n.spawn(signal)));
  const spawnErrors = spawns.flatMap((s, i) =>
    s.status === 'rejected' ? [`${kept[i]?.name}: ${describeError(s.reason)}`] : [],
  );
  if (spawnErrors.length) {
    return finish('SpawnFailed', `spawn failed (${spawnErrors.join('; ')})`);
  }

  const partial = kept.length < count ? ` (minCount ${minCount})` : '';
  return {
    outcome: 'Provisioned',
    count,
    minCount,
    nodes: kept,
    explanation: explain(capLine(`${kept.length}/${count} nodes${partial}${tail(entries)}`)),
    released: 0,
    releaseFailures,
  };
}

function tail(entries: ProvisionerExplanation[]): string {
  return entries.length ? `: ${entries.map(formatEntry).join('; ')}` : ': no provisioners';
}

function safeAvailability(p: Provisioner): { available: boolean; reason?: string } {
  try {
    return p.availability?.() ?? { available: true };
  } catch (err) {
    return { available: false, reason: describeError(err) };
  }
}

async function withDeadline(
  p: Provisioner,
  asked: number,
  ctx: ProvisionContext,
  ms: number,
  logger: Logger,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  // A synchronous throw must be an error of this provisioner, not of the stack.
  const work = Promise.resolve().then(() => p.getNodes(asked, ctx));
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new ProvisionerUnavailableError(`no answer within ${ms} ms`));
    }, ms);
  });
  work.then(
    async (late) => {
      if (!timedOut) return;
      const nodes = releasable(late);
      const { failures } = await releaseAll(nodes);
      logger.warn('released nodes that arrived after the deadline', {
        provisioner: p.name,
        nodes: nodes.map((n) => n.name),
        failures,
      });
    },
    (err: unknown) => {
      // Past the deadline nobody awaits this error; what it could not release must still be seen.
      if (timedOut && err instanceof ProvisionerError && err.unreleased.length) {
        logger.error('a provisioner failed after its deadline and left nodes unreleased', {
          provisioner: p.name,
          unreleased: err.unreleased,
        });
      }
    },
  );
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why a getNodes answer breaks the contract, or undefined when it is fine. */
export function checkNodes(nodes: unknown, names: readonly string[]): string | undefined {
  if (!Array.isArray(nodes)) return 'getNodes did not return an array';
  if (nodes.length > names.length) {
    return `returned ${nodes.length} nodes, asked for ${names.length}`;
  }
  const allowed = new Set(names);
  const seen = new Set<string>();
  for (const n of nodes as unknown[]) {
    if (!isNode(n)) return 'returned something that is not a node';
    if (!n.name) return 'returned a node with an empty name';
    if (seen.has(n.name)) return `returned node name "${n.name}" twice`;
    if (!allowed.has(n.name))
      return `returned node "${n.name}", which was not among the names given`;
    seen.add(n.name);
  }
  return undefined;
}

function isNode(n: unknown): n is ProvisionedNode {
  if (typeof n !== 'object' || n === null) return false;
  const o = n as Record<string, unknown>;
  return (
    typeof o.name === 'string' &&
    typeof o.release === 'function' &&
    typeof o.spawn === 'function' &&
    typeof o.toRecord === 'function'
  );
}

function releasable(nodes: unknown): ProvisionedNode[] {
  if (!Array.isArray(nodes)) return [];
  // The same object twice must still be released once.
  return [...new Set((nodes as unknown[]).filter(isNode))];
}

/** Releases each node once, concurrently; never throws. */
export async function releaseAll(
  nodes: readonly ProvisionedNode[],
): Promise<{ released: number; failures: ReleaseFailure[] }> {
  const unique = [...new Set(nodes)];
  const results = await Promise.allSettled(unique.map((n) => n.release()));
  const failures: ReleaseFailure[] = [];
  results.forEach((r, i) => {
    const node = unique[i];
    if (r.status === 'fulfilled' || !node) return;
    failures.push({
      name: node.name,
      provisioner: node.provisioner,
      error: describeError(r.reason),
      record: safeRecord(node),
    });
  });
  return { released: unique.length - failures.length, failures };
}

function safeRecord(node: ProvisionedNode): NodeRecord {
  try {
    return { ...node.toRecord(), state: 'Releasing' };
  } catch {
    return orphanRecord(node.name, node.provisioner);
  }
}

/** A record for a node known only by name: enough for `restore` + `release` of name-keyed provisioners. */
function orphanRecord(name: string, provisioner: string): NodeRecord {
  return { name, provisioner, address: '', configEntry: '', state: 'Releasing' };
}

/** The index of `<request>-<index>`; names without one sort last. */
export function nameIndex(name: string): number {
  const m = /-(\d+)$/.exec(name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}
