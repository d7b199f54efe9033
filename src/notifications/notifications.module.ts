import { Global, Module } from '@nestjs/common';
import { Notifier } from './notifier';

@Global()
@Module({
  providers: [Notifier],
  exports: [Notifier],
})
export class NotificationsModule {}
