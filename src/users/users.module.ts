import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module';
import { DatabaseModule } from '../database/database.module';
import { SecurityModule } from '../security/security.module';
import { BearerAuthGuard } from './bearer-auth.guard';
import { TokenLookup } from './token-lookup';
import { UserRepository } from './user.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({
  imports: [AuditModule, DatabaseModule, SecurityModule],
  controllers: [UsersController],
  providers: [UserRepository, UsersService, TokenLookup, { provide: APP_GUARD, useClass: BearerAuthGuard }],
  exports: [UserRepository, UsersService],
})
export class UsersModule {}
