import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Scrubber } from './scrubber';
import { levelFor } from './logger';

describe('Scrubber', () => {
  const scrubber = new Scrubber(['webhook-secret-0123456789', 'short']);

  it('removes configured secrets, URL passwords, bearer and basic credentials and secret query values', () => {
    expect(scrubber.text('got webhook-secret-0123456789 from smtp://user:p%40ss@mail:587 with Bearer abcdef123456 and Basic QUJDOkFQSQ==')).toBe(
      'got [redacted] from smtp://user:[redacted]@mail:587 with Bearer [redacted] and Basic [redacted]',
    );
    expect(scrubber.text('/console/auth/procore/callback?code=xyz&state=s1&page=2')).toBe('/console/auth/procore/callback?code=[redacted]&state=[redacted]&page=2');
  });

  it('blanks fields named like secrets at any depth and scrubs errors', () => {
    const error = new Error('connect to postgres://connector:hunter2@db:5432/x failed');
    expect(scrubber.fields({ user: 'ann', password: 'x', deep: { headers: { authorization: 'Bearer t' } }, tokens: 3, err: error })).toEqual({
      user: 'ann',
      password: '[redacted]',
      deep: { headers: { authorization: '[redacted]' } },
      tokens: 3,
      err: expect.objectContaining({ type: 'Error', message: 'connect to postgres://connector:[redacted]@db:5432/x failed' }),
    });
  });
});

describe('Scrubber and the request log', () => {
  it('hands a request and its response to the serializers as they are, without walking them', () => {
    const scrubber = new Scrubber(['webhook-secret-0123456789']);
    const request = new IncomingMessage(new Socket());
    request.headers.authorization = 'Bearer webhook-secret-0123456789';
    const response = new ServerResponse(request);
    const fields = scrubber.fields({ req: request, res: response, ms: 3, note: 'webhook-secret-0123456789' });
    expect(fields.req).toBe(request);
    expect(fields.res).toBe(response);
    expect(fields.note).toBe('[redacted]');
  });
});

describe('levelFor', () => {
  it('maps Nest logger options to a pino level', () => {
    expect(levelFor(false, 'info')).toBe('silent');
    expect(levelFor(undefined, 'debug')).toBe('debug');
    expect(levelFor(['error'], 'info')).toBe('error');
    expect(levelFor(['log', 'warn', 'error'], 'info')).toBe('info');
    expect(levelFor(['verbose', 'error'], 'info')).toBe('trace');
  });
});
