import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Permission } from '../users/permissions';
import type { User } from '../users/user.entity';

export const PUBLIC_ROUTE = 'public-route';
export const REQUIRED_PERMISSION = 'required-permission';

/** No bearer token needed (health, docs, Procore webhooks with their own secret). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/** The permission a route needs; routes without one only need a valid token. */
export const RequirePermission = (permission: Permission) => SetMetadata(REQUIRED_PERMISSION, permission);

/** The authenticated user of the request. */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): User => {
  return context.switchToHttp().getRequest<{ user: User }>().user;
});

/** When the bearer guard first saw the request (`performance.now()`), for reads kept in memory (ReadChanges.sync). */
export const ArrivedAt = createParamDecorator((_: unknown, context: ExecutionContext): number | undefined => {
  return context.switchToHttp().getRequest<{ arrivedAt?: number }>().arrivedAt;
});
