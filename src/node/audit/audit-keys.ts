/**
 * The verification keys an audit's files name (audit.json, an inclusion proof), from this
 * machine's own builds: the files only name the instances, so a file cannot bring its own keys.
 */
import type { AuditInstances } from "../../audit/audit-files.ts";
import { checkDeclaredGeometry, type AuditGeometry } from "../../audit/audit-instances.ts";
import type { AuditKeys } from "../../audit/verify-audit.ts";
import { loadInstanceArtifacts } from "../artifacts.ts";
import { auditLayout } from "./run-audit.ts";

/** Loads the keys of `declared.instances` after checking they are audit instances of the declared batch size, fan-in and layout. */
export function loadAuditKeys(declared: AuditGeometry & { instances: AuditInstances }, source: string): AuditKeys {
  checkDeclaredGeometry(declared, auditLayout(declared.instances), source);
  return {
    batch: loadInstanceArtifacts(declared.instances.batch).verificationKey,
    merge: loadInstanceArtifacts(declared.instances.merge).verificationKey,
    top: loadInstanceArtifacts(declared.instances.top).verificationKey,
  };
}
