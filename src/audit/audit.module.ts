import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditEventRepository } from './audit-event.repository';
import { AuditEvents } from './audit-events.service';

/** The audit trail: every module that changes something appends to it (AuditEventRepository). */
@Module({ controllers: [AuditController], providers: [AuditEventRepository, AuditEvents], exports: [AuditEventRepository] })
export class AuditModule {}
