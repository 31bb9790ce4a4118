// From node records back to nodes. `status.nodes` is the record of an allocation; after a
// restart or a config reload the controller restores every record into the fresh provisioner
// instances (so in-memory reservations such as multilocal ports are taken again) and, on deletion,
// releases them.
import { describeError } from './errors.js';
import { releaseAll, type ReleaseFailure } from './stack.js';
import type { NodeRecord, ProvisionedNode, Provisioner, RequestIdentity } from './types.js';

export interface RestoreResult {
  nodes: ProvisionedNode[];
  failures: ReleaseFailure[];
}

function byName(provisioners: Iterable<Provisioner>): Map<string, Provisioner> {
  const map = new Map<string, Provisioner>();
  for (const p of provisioners) map.set(p.name, p);
  return map;
}

/** Rebuilds nodes from records; a record whose provisioner is gone or refuses it is a failure. */
export function restoreRecords(
  records: readonly NodeRecord[],
  request: RequestIdentity,
  provisioners: Iterable<Provisioner>,
): RestoreResult {
  const known = byName(provisioners);
  const nodes: ProvisionedNode[] = [];
  const failures: ReleaseFailure[] = [];
  for (const record of records) {
    if (record.state === 'Released') continue;
    const p = known.get(record.provisioner);
    if (!p) {
      failures.push({
        name: record.name,
        provisioner: record.provisioner,
        error: `provisioner "${record.provisioner}" is not configured in this profile`,
        record,
      });
      continue;
    }
    try {
      nodes.push(p.restore(record, request));
    } catch (err) {
      failures.push({
        name: record.name,
        provisioner: record.provisioner,
        error: `restore failed: ${describeError(err)}`,
        record,
      });
    }
  }
  return { nodes, failures };
}

export interface ReleaseRecordsResult {
  released: NodeRecord[];
  failures: ReleaseFailure[];
}

/** The finalizer's work: give back every node of a request; failures are kept for a retry. */
export async function releaseRecords(
  records: readonly NodeRecord[],
  request: RequestIdentity,
  provisioners: Iterable<Provisioner>,
): Promise<ReleaseRecordsResult> {
  const restored = restoreRecords(records, request, provisioners);
  const { failures } = await releaseAll(restored.nodes);
  const failed = new Set(failures.map((f) => f.name));
  return {
    released: restored.nodes
      .filter((n) => !failed.has(n.name))
      .map((n) => ({ ...n.toRecord(), state: 'Released' as const })),
    failures: [...restored.failures, ...failures],
  };
}
