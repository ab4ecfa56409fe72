export * from './vocabulary.js';
export * from './report.js';
export * from './alert.js';
export * from './principal.js';
export * from './frames.js';
export * from './issues.js';
export * from './config.js';
