export { AUDIT_EVENT_COLUMNS, auditEventArrays, recordAudit, recordAudits } from './log.js';
export {
  canonicalJson,
  chainHash,
  chainInput,
  checkTail,
  classifyBreak,
  describeBreak,
  GENESIS_HASH,
  sealEntries,
  walkChain,
  type ChainBreak,
  type ChainFields,
  type ChainPosition,
  type SealedEntry,
  type WalkResult,
} from './chain.js';
export {
  auditKeyFilesIn,
  CHECKPOINT_TYPE,
  checkpointPayloadSchema,
  CheckpointInvalid,
  createAuditSigner,
  loadAuditSigner,
  openCheckpoint,
  readAuditKeySet,
  type AuditSigner,
  type CheckpointPayload,
} from './checkpoint.js';
export {
  readAuditExport,
  sealAuditChain,
  startAuditSealer,
  type AuditSealer,
  type AuditSealerOptions,
  type ExportedEntry,
  type ExportRange,
} from './sealing.js';
export {
  AuditChainBroken,
  describeProblem,
  purgeAuditBefore,
  verifyAuditChain,
  type AuditProblem,
  type AuditVerification,
  type PurgeResult,
  type VerifyOptions,
} from './verify.js';
