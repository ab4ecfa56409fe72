import { describe, expect, it } from 'vitest';
import { websocketErrorLevel } from '../src/app.js';

describe('how loud an error on an open WebSocket is', () => {
  it('warns about frames the client got wrong', () => {
    for (const code of ['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'WS_ERR_INVALID_UTF8', 'WS_ERR_EXPECTED_MASK'])
      expect(websocketErrorLevel(Object.assign(new RangeError('bad frame'), { code })), code).toBe('warn');
  });

  it('says a peer that went away at info, and anything else at error', () => {
    expect(websocketErrorLevel(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe('info');
    expect(websocketErrorLevel(Object.assign(new Error('pipe'), { code: 'EPIPE' }))).toBe('info');
    expect(websocketErrorLevel(new Error('a bug of ours'))).toBe('error');
    expect(websocketErrorLevel(Object.assign(new Error('?'), { code: 42 }))).toBe('error');
    expect(websocketErrorLevel(null)).toBe('error');
  });
});
