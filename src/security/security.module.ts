import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AppConfig } from '../config/app-config';
import { AuthFailureLimiter, FAN_OUT, FanOutThrottlerGuard, RATE_WINDOW_MS } from './rate-limits';

/** Rate limits (per process): failed authentication, and the calls that fan out to Spectrum or Procore. */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        throttlers: [{ name: FAN_OUT, ttl: RATE_WINDOW_MS, limit: config.security.fanOutPerMinute }],
      }),
    }),
  ],
  providers: [AuthFailureLimiter, FanOutThrottlerGuard],
  exports: [AuthFailureLimiter, FanOutThrottlerGuard, ThrottlerModule],
})
export class SecurityModule {}
