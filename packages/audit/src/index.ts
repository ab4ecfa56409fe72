export { recordAudit } from './log.js';
