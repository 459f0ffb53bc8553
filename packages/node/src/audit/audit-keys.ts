/**
 * The verification keys an audit's files name (audit.json, an inclusion proof), from this
 * machine's own builds: the files only name the instances (checked against packages/circuits/instances.json
 * before any path is built from them), so a file cannot bring its own keys; and they record each
 * key's fingerprint, which must be this machine's (checkAuditKeys, exit 3 when not).
 */
import { auditGeometry, checkDeclaredGeometry, type AuditGeometry, type AuditInstances, type AuditKeyRecords, type AuditKeys } from "@zk-solvency/sdk/audit";
import { keyDeployable, type KeySource } from "../setup/manifest.ts";
import { verificationKeyHash } from "@zk-solvency/sdk/verifier";
import { loadInstances } from "../setup/instances.ts";
import { loadInstanceArtifacts } from "../artifacts.ts";

const ROLES = ["batch", "merge", "top"] as const;

/** The audit instances' shapes, read from packages/circuits/instances.json (unknown names are refused, exit 3). */
export function auditLayout(instances: AuditInstances): AuditGeometry {
  const all = loadInstances();
  return auditGeometry(instances, (name) => all.find((i) => i.name === name));
}

/** Loads the keys of `declared.instances` after checking they are audit instances of the declared batch size, fan-in and layout. */
export function loadAuditKeys(declared: AuditGeometry & { instances: AuditInstances }, source: string): AuditKeys {
  checkDeclaredGeometry(declared, auditLayout(declared.instances), source);
  return {
    batch: loadInstanceArtifacts(declared.instances.batch).verificationKey,
    merge: loadInstanceArtifacts(declared.instances.merge).verificationKey,
    top: loadInstanceArtifacts(declared.instances.top).verificationKey,
  };
}

/**
 * This machine's keys of `instances`: each key's fingerprint, computed from the key itself (not
 * copied from the manifest), and its source as the manifest records it (a build without one
 * predates ceremonies: development).
 */
export function auditKeyRecords(instances: AuditInstances): AuditKeyRecords {
  const record = (instance: string) => {
    const artifacts = loadInstanceArtifacts(instance);
    const keySource: KeySource = artifacts.manifest.keySource ?? { kind: "development", contributions: 1 };
    return { verificationKeyHash: verificationKeyHash(artifacts.verificationKey), keySource };
  };
  return Object.fromEntries(ROLES.map((role) => [role, record(instances[role])])) as AuditKeyRecords;
}

/**
 * The roles whose keys are not deployable: development keys (one local phase-2 contribution) and
 * ceremony keys on a phase-1 ptau that is not a known public ceremony file. Whoever made them
 * (or that ptau) can forge proofs.
 */
export const developmentKeys = (keys: AuditKeyRecords): string[] => ROLES.filter((role) => !keyDeployable(keys[role].keySource as KeySource));
