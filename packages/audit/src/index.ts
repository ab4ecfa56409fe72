export { AUDIT_EVENT_COLUMNS, auditEventArrays, recordAudit, recordAudits } from './log.js';
