import { ApiProperty } from '@nestjs/swagger';
import { PageFields } from '../common/api-docs';
import { ERP_PERMISSIONS } from './user.entity';

/** The answers of `api/v1/users` as the OpenAPI document describes them (presentUser, presentToken). */
export class UserDto {
  @ApiProperty({ example: '2' }) id!: string;
  @ApiProperty({ example: 'dana.whitfield@summit-builders.example' }) email!: string;
  @ApiProperty({ example: 'Dana Whitfield' }) name!: string;
  @ApiProperty({ enum: ERP_PERMISSIONS, example: 'standard' }) erpPermission!: string;
  @ApiProperty({ description: 'May accept, reject, retry and unlock (with standard or admin)', example: false }) canPushToAccounting!: boolean;
  @ApiProperty({ description: 'Receives the daily summary', example: true }) subscribedToDigest!: boolean;
  @ApiProperty({ example: true }) active!: boolean;
  @ApiProperty({ nullable: true, description: 'The linked Procore user (set by the user sync)', example: '7001' }) procoreUserId!: string | null;
  @ApiProperty({ example: '2026-11-27T14:12:47.787Z' }) createdAt!: string;
  @ApiProperty({ example: '2026-11-27T14:12:47.787Z' }) updatedAt!: string;
}

export class UserPageDto extends PageFields {
  @ApiProperty({ type: [UserDto] }) data!: UserDto[];
}

export class TokenDto {
  @ApiProperty({ example: '4' }) id!: string;
  @ApiProperty({ description: 'The first characters, to recognise it', example: 'psc_cJa1ey' }) prefix!: string;
  @ApiProperty({ nullable: true, example: 'CI' }) label!: string | null;
  @ApiProperty({ enum: ['active', 'expired', 'revoked'], example: 'active' }) state!: string;
  @ApiProperty({ example: '2026-11-27T14:13:37.144Z' }) createdAt!: string;
  @ApiProperty({ nullable: true, example: null }) lastUsedAt!: string | null;
  @ApiProperty({ nullable: true, example: '2027-02-25T14:13:37.144Z' }) expiresAt!: string | null;
  @ApiProperty({ nullable: true, example: null }) revokedAt!: string | null;
}

export class IssuedTokenDto extends TokenDto {
  @ApiProperty({ description: 'The token itself: shown in this answer only, stored as a hash', example: 'psc_cJa1eyV4ryG4C81aNZhk7ohlmLdpT-c9QjIaIXE0WKE' })
  token!: string;
}

export class TokenListDto {
  @ApiProperty({ type: [TokenDto] }) data!: TokenDto[];
}
