import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { ERP_PERMISSIONS, ErpPermission } from './user.entity';
import { MAX_TOKEN_DAYS } from './users.service';

const trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

export class CreateUserDto {
  @ApiProperty({ example: 'ana.lopez@example.com' })
  @trim() @IsEmail({}, { message: 'email must be an email address' }) @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'Ana Lopez' })
  @trim() @IsString() @Length(1, 200, { message: 'name must be 1 to 200 characters' })
  name: string;

  @ApiProperty({ enum: ERP_PERMISSIONS, example: 'standard' })
  @IsIn(ERP_PERMISSIONS, { message: `erpPermission must be one of ${ERP_PERMISSIONS.join(', ')}` })
  erpPermission: ErpPermission;

  @ApiProperty({ description: 'May accept, reject, retry and unlock (with standard or admin)', example: true })
  @IsBoolean({ message: 'canPushToAccounting must be true or false' })
  canPushToAccounting: boolean;

  @ApiPropertyOptional({ default: true })
  @IsOptional() @IsBoolean({ message: 'subscribedToDigest must be true or false' })
  subscribedToDigest?: boolean;
}

/** May be left out, but not sent as null: every field of a user has a value. */
const Omittable = () => ValidateIf((_object, value) => value !== undefined);

export class UpdateUserDto {
  @ApiPropertyOptional({ example: 'ana.lopez@example.com' })
  @Omittable() @trim() @IsEmail({}, { message: 'email must be an email address' }) @MaxLength(254)
  email?: string;

  @ApiPropertyOptional({ example: 'Ana Lopez' })
  @Omittable() @trim() @IsString() @Length(1, 200, { message: 'name must be 1 to 200 characters' })
  name?: string;

  @ApiPropertyOptional({ enum: ERP_PERMISSIONS, example: 'admin' })
  @Omittable() @IsIn(ERP_PERMISSIONS, { message: `erpPermission must be one of ${ERP_PERMISSIONS.join(', ')}` })
  erpPermission?: ErpPermission;

  @ApiPropertyOptional({ example: true })
  @Omittable() @IsBoolean({ message: 'canPushToAccounting must be true or false' })
  canPushToAccounting?: boolean;

  @ApiPropertyOptional({ description: 'Anyone may change their own', example: false })
  @Omittable() @IsBoolean({ message: 'subscribedToDigest must be true or false' })
  subscribedToDigest?: boolean;

  @ApiPropertyOptional({ description: 'false deactivates: the user can do nothing, their tokens stop working', example: true })
  @Omittable() @IsBoolean({ message: 'active must be true or false' })
  active?: boolean;
}

export class CreateTokenDto {
  @ApiPropertyOptional({ example: 'integration server' })
  @IsOptional() @trim() @IsString() @Length(1, 100, { message: 'label must be 1 to 100 characters' })
  label?: string;

  @ApiPropertyOptional({ example: 90, minimum: 1, maximum: MAX_TOKEN_DAYS, description: 'The token stops working this many days after its creation; left out: it does not expire' })
  @IsOptional()
  @IsInt({ message: `expiresInDays must be a whole number of days from 1 to ${MAX_TOKEN_DAYS}` })
  @Min(1, { message: `expiresInDays must be a whole number of days from 1 to ${MAX_TOKEN_DAYS}` })
  @Max(MAX_TOKEN_DAYS, { message: `expiresInDays must be a whole number of days from 1 to ${MAX_TOKEN_DAYS}` })
  expiresInDays?: number;
}
