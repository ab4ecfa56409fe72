import { describe, expect, it } from 'vitest';
import { normaliseOrigin } from '@renkei/http';
import { corsHeaders } from '../../src/cors.js';

describe('CORS for the console', () => {
  const allowed = new Set(['http://127.0.0.1:7401', 'https://console.example']);

  it('answers an allowed origin with its own name, never a wildcard', () => {
    expect(corsHeaders('http://127.0.0.1:7401', allowed, false)).toEqual({
      'access-control-allow-origin': 'http://127.0.0.1:7401',
      vary: 'Origin',
    });
    expect(corsHeaders('HTTPS://Console.Example:443', allowed, false)).toMatchObject({
      'access-control-allow-origin': 'https://console.example',
    });
  });

  it('says which methods and headers a preflight may use', () => {
    expect(corsHeaders('https://console.example', allowed, true)).toEqual({
      'access-control-allow-origin': 'https://console.example',
      vary: 'Origin',
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'authorization, content-type',
      'access-control-max-age': '600',
    });
  });

  it('tells any other page nothing', () => {
    expect(corsHeaders(undefined, allowed, false)).toBeNull();
    expect(corsHeaders('http://127.0.0.1:7402', allowed, true)).toBeNull();
    expect(corsHeaders('null', allowed, true)).toBeNull();
    expect(corsHeaders('https://console.example.evil', allowed, false)).toBeNull();
  });

  it('reads only http(s) origins', () => {
    expect(normaliseOrigin('file:///x')).toBeNull();
    expect(normaliseOrigin('http://LOCALHOST:80/')).toBe('http://localhost');
  });
});
