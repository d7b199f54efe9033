import { Injectable } from '@nestjs/common';

/**
 * The scheduler's source of "now". Cron callbacks read it and pass the instant on, so every
 * enqueue method takes its instant as an argument; tests replace `now` instead of waiting.
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
