import { Module } from '@nestjs/common';
import { Clock } from './clock';

/** Everyone's "now" (the schedules, the daily summary job): one Clock, which tests set. */
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
