import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditEvents } from './audit-events.service';
import { AuditService } from './audit.service';

@Global()
@Module({ controllers: [AuditController], providers: [AuditService, AuditEvents], exports: [AuditService] })
export class AuditModule {}
