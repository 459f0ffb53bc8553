/**
 * Which circuit instances make an audit, from their templates and parameters alone (browser-safe:
 * the CLI reads them from packages/circuits/instances.json, the page from its server's instance list).
 */
import { ZksError } from "../core/errors.ts";
import type { AuditInstances, AuditLayout } from "./audit-files.ts";

export interface AuditInstanceInfo {
  name: string;
  template: string;
  params: readonly number[];
}

export interface AuditGeometry {
  layout: AuditLayout;
  batchSize: number;
  fanIn: number;
}

/** Exit code 3 (setup): the named instances are not audit instances that fit together. */
export class AuditInstancesError extends ZksError {
  constructor(message: string) {
    super(message, 3);
    this.name = "AuditInstancesError";
  }
}

/**
 * Batch size, fan-in and layout of `instances`, looked up with `find`; throws when they are not an
 * AuditBatch and two AuditMerge (top 0 and 1) of its layout that fit together, or the crowding
 * templates (AuditBatchCrowding, AuditMergeCrowding: the same parameters) all three.
 */
export function auditGeometry(instances: AuditInstances, find: (name: string) => AuditInstanceInfo | undefined): AuditGeometry {
  const get = (name: string, template: string): AuditInstanceInfo => {
    const found = find(name);
    if (!found || found.template !== template)
      throw new AuditInstancesError(`audit instance "${name}" is not a known ${template} instance (circuits/instances.json; in the browser, the instances the server lists)`);
    return found;
  };
  // The batch's template says which kind of audit; the merges must be of the same kind.
  const crowding = find(instances.batch)?.template === "AuditBatchCrowding";
  const suffix = crowding ? "Crowding" : "";
  const [batchSize, nAssets, nInstruments, nScenarios] = get(instances.batch, `AuditBatch${suffix}`).params as [number, number, number, number];
  const merge = get(instances.merge, `AuditMerge${suffix}`).params;
  const top = get(instances.top, `AuditMerge${suffix}`).params;
  const fanIn = merge[0]!;
  // A merge adds its children's figures word by word: it must have the batch's layout, crowding words included.
  const fits = (p: readonly number[], isTop: number) => p[0] === fanIn && p[1] === nAssets && p[2] === nInstruments && p[3] === nScenarios && p[4] === isTop;
  if (!fits(merge, 0) || !fits(top, 1)) {
    throw new AuditInstancesError(
      `audit instances ${instances.batch}, ${instances.merge}, ${instances.top} do not fit together (fan-in, layout ${nAssets}x${nInstruments}x${nScenarios}, top flag, crowding)`,
    );
  }
  return { layout: { nAssets, nInstruments, nScenarios, ...(crowding ? { crowding: true } : {}) }, batchSize, fanIn };
}

/** Checks that a file's declared batch size, fan-in and layout are those of the instances it names (exit 2 when not). */
export function checkDeclaredGeometry(declared: AuditGeometry & { instances: AuditInstances }, actual: AuditGeometry, source: string): void {
  const same = (a: AuditLayout, b: AuditLayout) =>
    a.nAssets === b.nAssets && a.nInstruments === b.nInstruments && a.nScenarios === b.nScenarios && (a.crowding === true) === (b.crowding === true);
  const mismatch = [
    actual.batchSize !== declared.batchSize && `batchSize ${declared.batchSize} (${declared.instances.batch} batches ${actual.batchSize})`,
    actual.fanIn !== declared.fanIn && `fanIn ${declared.fanIn} (${declared.instances.merge} merges ${actual.fanIn})`,
    !same(actual.layout, declared.layout) && `layout ${JSON.stringify(declared.layout)} (${declared.instances.batch} has ${JSON.stringify(actual.layout)})`,
  ].filter(Boolean);
  if (mismatch.length > 0) throw new ZksError(`${source}: ${mismatch.join("; ")}: not the instances it names`, 2);
}
