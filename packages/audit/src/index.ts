export { recordAudit, recordAudits } from './log.js';
