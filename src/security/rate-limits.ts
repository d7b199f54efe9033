import { applyDecorators, ExecutionContext, HttpException, HttpStatus, Inject, Injectable, UseGuards } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail, ThrottlerStorage } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';

/** Every limit counts over one minute. */
export const RATE_WINDOW_MS = 60_000;
/** The named throttler of the calls that fan out to Spectrum or Procore (preview, send). */
export const FAN_OUT = 'fan-out';

/** 429 in the API's error shape; `Retry-After` (seconds) is set by the caller. */
export class TooManyRequests extends HttpException {
  constructor(message: string) {
    super({ statusCode: HttpStatus.TOO_MANY_REQUESTS, error: 'Too Many Requests', message }, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * Calls that make the connector call Spectrum or Procore on the caller's behalf — the preview
 * (GetPhase for every job of a budget) and a send (a lock and a whole budget read) — are limited
 * per user: RATE_LIMIT_FAN_OUT per minute each, so one token cannot spend Procore's rate limit or
 * load Spectrum for everyone. (Per process; counted after authentication.)
 */
@Injectable()
export class FanOutThrottlerGuard extends ThrottlerGuard {
  protected override async getTracker(request: Record<string, any>): Promise<string> {
    const user = request.user as { id?: string } | undefined;
    return user?.id ? `user:${user.id}` : `ip:${request.ip ?? 'unknown'}`;
  }

  protected override async getErrorMessage(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<string> {
    return `Too many previews or sends: at most ${detail.limit} a minute per user, each; try again in ${detail.timeToBlockExpire} s`;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const response = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    response.setHeader('Retry-After', String(detail.timeToBlockExpire));
    throw new TooManyRequests(await this.getErrorMessage(context, detail));
  }
}

/** The preview and the send: limited per user (see FanOutThrottlerGuard). Never for the webhook. */
export const FanOutRateLimit = () => applyDecorators(UseGuards(FanOutThrottlerGuard));

/**
 * Failed authentications per client (IP address; see TRUST_PROXY): after RATE_LIMIT_AUTH_FAILURES
 * in a minute the client is refused with 429 for the rest of that minute — before its token is
 * even looked at — so tokens cannot be guessed at speed and junk cannot load the database. Counts
 * live in the process (the @nestjs/throttler storage).
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    @Inject(ThrottlerStorage) private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  /** Refuses a client that is waiting out its limit. */
  assertAllowed(client: string): void {
    const until = this.blockedUntil.get(client);
    if (until === undefined) return;
    const wait = Math.ceil((until - Date.now()) / 1000);
    if (wait > 0) throw this.refusal(wait);
    this.blockedUntil.delete(client);
  }

  /** Counts a failed authentication; throws 429 when it was one too many. */
  async failed(client: string): Promise<void> {
    const limit = this.config.security.authFailuresPerMinute;
    const record = await this.storage.increment(`auth-failure:${client}`, RATE_WINDOW_MS, limit, RATE_WINDOW_MS, 'auth-failure');
    if (!record.isBlocked) return;
    this.blockedUntil.set(client, Date.now() + record.timeToBlockExpire * 1000);
    throw this.refusal(record.timeToBlockExpire);
  }

  private refusal(waitSeconds: number): TooManyRequests {
    const error = new TooManyRequests(
      `Too many failed authentications from this address: at most ${this.config.security.authFailuresPerMinute} a minute; try again in ${waitSeconds} s`,
    );
    (error as TooManyRequests & { retryAfter?: number }).retryAfter = waitSeconds;
    return error;
  }
}
