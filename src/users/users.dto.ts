import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsEmail, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { ERP_PERMISSIONS, ErpPermission } from './user.entity';

const trim = () => Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));

export class CreateUserDto {
  @ApiProperty({ example: 'ana.lopez@example.com' })
  @trim() @IsEmail({}, { message: 'email must be an email address' }) @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'Ana Lopez' })
  @trim() @IsString() @Length(1, 200, { message: 'name must be 1 to 200 characters' })
  name: string;

  @ApiProperty({ enum: ERP_PERMISSIONS })
  @IsIn(ERP_PERMISSIONS, { message: `erpPermission must be one of ${ERP_PERMISSIONS.join(', ')}` })
  erpPermission: ErpPermission;

  @ApiProperty()
  @IsBoolean({ message: 'canPushToAccounting must be true or false' })
  canPushToAccounting: boolean;

  @ApiPropertyOptional({ default: true })
  @IsOptional() @IsBoolean({ message: 'subscribedToDigest must be true or false' })
  subscribedToDigest?: boolean;
}

export class UpdateUserDto {
  @ApiPropertyOptional()
  @IsOptional() @trim() @IsEmail({}, { message: 'email must be an email address' }) @MaxLength(254)
  email?: string;

  @ApiPropertyOptional()
  @IsOptional() @trim() @IsString() @Length(1, 200, { message: 'name must be 1 to 200 characters' })
  name?: string;

  @ApiPropertyOptional({ enum: ERP_PERMISSIONS })
  @IsOptional() @IsIn(ERP_PERMISSIONS, { message: `erpPermission must be one of ${ERP_PERMISSIONS.join(', ')}` })
  erpPermission?: ErpPermission;

  @ApiPropertyOptional()
  @IsOptional() @IsBoolean({ message: 'canPushToAccounting must be true or false' })
  canPushToAccounting?: boolean;

  @ApiPropertyOptional()
  @IsOptional() @IsBoolean({ message: 'subscribedToDigest must be true or false' })
  subscribedToDigest?: boolean;

  @ApiPropertyOptional()
  @IsOptional() @IsBoolean({ message: 'active must be true or false' })
  active?: boolean;
}

export class CreateTokenDto {
  @ApiPropertyOptional({ example: 'integration server' })
  @IsOptional() @trim() @IsString() @Length(1, 100, { message: 'label must be 1 to 100 characters' })
  label?: string;
}
