/**
 * The audit on BullMQ with Redis (docs/audit.md, "Distributed proving (BullMQ)"): the coordinator
 * enqueues one flow of proof jobs mirroring the tree and checks every result; workers on any
 * number of machines prove them. BullMQ is loaded only when one of these runs.
 */
export {
  checkQueueName,
  checkQueueReachable,
  DEFAULT_QUEUE_NAME,
  parseQueueUrl,
  QUEUE_ENV,
  resolveQueueUrl,
  untrustedLine,
  type QueueConnection,
  type RedisConnectionOptions,
} from "./connection.ts";
export { confirmUnprovable, QueueResultError, removeAuditJobs, runQueuedAudit, type QueuedAuditOptions, type QueuedAuditRun } from "./coordinator.ts";
export {
  auditFlow,
  auditId,
  auditJobData,
  auditJobId,
  auditJobs,
  decodeSignals,
  encodeSignals,
  JOB_ATTEMPTS,
  parseJobData,
  parseJobResult,
  safeName,
  type AuditJobData,
  type AuditJobRef,
  type AuditJobResult,
  type EncodedSignal,
} from "./jobs.ts";
export { MAX_STALLED, startAuditWorker, type AuditWorkerOptions, type AuditWorkerRun, type AuditWorkerStats } from "./worker.ts";
