import { PassThrough } from 'node:stream';
import { Logger } from '@nestjs/common';
import type { Request } from 'express';
import { automock } from '../../../test/support/unit';
import { AppConfig } from '../../config/app-config';
import { Outbox } from '../../queue/outbox';
import { ProcoreException, ProcoreExceptionCode } from '../procore.exception';
import { ProcoreWebhookController } from './procore-webhook.controller';
import { WEBHOOK_BODY_TIMEOUT_MS } from './webhook-body';
import { WEBHOOK_ANSWER_DEADLINE_MS } from './webhook-deadline';
import { WebhookEventRepository } from './webhook-event.repository';
import { WebhookReceiver } from './webhook-receiver.service';

const SECRET = 'unit-webhook-secret-0123456789abcdef';
const DELIVERY = JSON.stringify({ id: 1, ulid: '0A1B2C3D4F5G6H7I8J9K0LMN', company_id: 7, project_id: 1001, user_id: 5, api_version: 'v2.0', event_type: 'update', resource_name: 'Budget Line Items', resource_id: 3 });

/**
 * Procore gives up after 5 s and pauses the endpoint: one deadline per delivery covers the body
 * read and the store. Fake timers (Date.now included) stand in for the clock.
 */
describe('ProcoreWebhookController: one answer deadline per delivery', () => {
  let events: jest.Mocked<WebhookEventRepository>;
  let outbox: jest.Mocked<Outbox>;
  let controller: ProcoreWebhookController;
  let request: PassThrough;

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    events = automock(WebhookEventRepository);
    outbox = automock(Outbox);
    const config = { procore: { webhookSecret: SECRET, companyId: 7 } } as unknown as AppConfig;
    controller = new ProcoreWebhookController(new WebhookReceiver(events, outbox, config));
    request = new PassThrough();
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  /** Starts a delivery; `settled()` says how it was answered so far. */
  const deliver = () => {
    let outcome: { at: number; value?: unknown; error?: unknown } | undefined;
    controller.receive(SECRET, request as unknown as Request).then(
      (value) => (outcome = { at: Date.now(), value }),
      (error) => (outcome = { at: Date.now(), error }),
    );
    return { settled: () => outcome };
  };
  const storeHangs = () => events.insert.mockReturnValue(new Promise(() => undefined));
  const isNotStored = (error: unknown) => error instanceof ProcoreException && error.code === ProcoreExceptionCode.WebhookNotStored;

  it('a body taking its whole read time leaves the store only the rest: 503 at the deadline (under 5 s), not read time + a store time of its own', async () => {
    expect(WEBHOOK_ANSWER_DEADLINE_MS).toBeLessThan(5000);
    storeHangs();
    const answer = deliver();
    request.write('{"id": 1, "ulid": "'); // …and the rest never comes

    await jest.advanceTimersByTimeAsync(WEBHOOK_BODY_TIMEOUT_MS);
    // The read gave up; the part that came is being stored as unusable.
    expect(events.insert).toHaveBeenCalledWith(expect.objectContaining({ status: 'unusable', reason: expect.stringContaining('did not arrive') }));
    await jest.advanceTimersByTimeAsync(WEBHOOK_ANSWER_DEADLINE_MS - WEBHOOK_BODY_TIMEOUT_MS - 1);
    expect(answer.settled()).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(answer.settled()).toEqual({ at: WEBHOOK_ANSWER_DEADLINE_MS, error: expect.anything() });
    expect(isNotStored(answer.settled()?.error)).toBe(true);
  });

  it('a body arriving after 1 s and a store that hangs: 503 at the same deadline', async () => {
    storeHangs();
    const answer = deliver();
    await jest.advanceTimersByTimeAsync(1000);
    request.end(DELIVERY);
    await jest.advanceTimersByTimeAsync(0);
    expect(events.insert).toHaveBeenCalledWith(expect.objectContaining({ status: 'received' }));

    await jest.advanceTimersByTimeAsync(WEBHOOK_ANSWER_DEADLINE_MS - 1000 - 1);
    expect(answer.settled()).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(answer.settled()?.at).toBe(WEBHOOK_ANSWER_DEADLINE_MS);
    expect(isNotStored(answer.settled()?.error)).toBe(true);
  });

  it('a delivery stored at once is answered at once and queued', async () => {
    events.insert.mockResolvedValue({ id: '42', duplicate: false, status: 'received', outcome: null });
    const answer = deliver();
    request.end(DELIVERY);
    await jest.advanceTimersByTimeAsync(0);
    expect(answer.settled()).toEqual({ at: 0, value: { received: true, eventId: '42', duplicate: false, status: 'received' } });
    expect(outbox.record).toHaveBeenCalledWith('process-webhook-event', { webhookEventId: '42' }, expect.objectContaining({ dedupeKey: 'webhook:42' }));
  });
});
