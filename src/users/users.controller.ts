import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { PageQueryDto } from '../common/page-query.dto';
import { ParseIdPipe } from '../common/id';
import { CurrentUser, RequirePermission } from '../common/auth.decorators';
import { User } from './user.entity';
import { CreateTokenDto, CreateUserDto, UpdateUserDto } from './users.dto';
import { presentToken, presentUser, UsersService } from './users.service';
import { ApiAuthenticatedErrors, ApiErrors } from '../common/api-docs';
import { IssuedTokenDto, TokenDto, TokenListDto, UserDto, UserPageDto } from './users.responses';

@ApiTags('users')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @RequirePermission('admin')
  @ApiOperation({ summary: 'Users, by id (admins)' })
  @ApiOkResponse({ type: UserPageDto })
  @ApiErrors(400, 403)
  list(@Query() query: PageQueryDto) {
    return this.users.list(query.page ?? 1, query.perPage ?? 50);
  }

  /** The caller's own user. */
  @Get('me')
  @ApiOperation({ summary: "The caller's own user" })
  @ApiOkResponse({ type: UserDto })
  me(@CurrentUser() user: User) {
    return presentUser(user);
  }

  @Get(':id')
  @RequirePermission('admin')
  @ApiOperation({ summary: 'One user (admins)' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(400, 403, 404)
  async get(@Param('id', ParseIdPipe) id: string) {
    return presentUser(await this.users.get(id));
  }

  @Post()
  @RequirePermission('admin')
  @ApiOperation({ summary: 'Create a user (admins); issue a token for them with POST /api/v1/users/{id}/tokens' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiErrors(400, 403, 409)
  async create(@Body() body: CreateUserDto, @CurrentUser() actor: User) {
    return presentUser(await this.users.create(body, { user: actor }));
  }

  /** The caller changes their own user (without admin rights: only subscribedToDigest). */
  @Patch('me')
  @ApiOperation({ summary: 'Change your own user: without admin rights, only subscribedToDigest' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(400, 403, 409)
  async updateMe(@Body() body: UpdateUserDto, @CurrentUser() actor: User) {
    return presentUser(await this.users.update(actor.id, body, actor));
  }

  /** Admins change any user; anyone may turn their own daily summary off or on. */
  @Patch(':id')
  @ApiOperation({ summary: 'Change a user (admins); anyone may turn their own daily summary off or on' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(400, 403, 404, 409)
  async update(@Param('id', ParseIdPipe) id: string, @Body() body: UpdateUserDto, @CurrentUser() actor: User) {
    return presentUser(await this.users.update(id, body, actor));
  }

  @Post(':id/tokens')
  @HttpCode(201)
  @RequirePermission('admin')
  @ApiOperation({ summary: 'Issue an API token for a user; the token is shown in this answer only' })
  @ApiCreatedResponse({ type: IssuedTokenDto })
  @ApiErrors(400, 403, 404, 409)
  async createToken(@Param('id', ParseIdPipe) id: string, @Body() body: CreateTokenDto, @CurrentUser() actor: User) {
    const { token, record } = await this.users.createToken(id, { user: actor }, body);
    return { token, ...presentToken(record) };
  }

  @Get(':id/tokens')
  @ApiOperation({ summary: "A user's tokens (prefix, created, last used, expiry; never the token): admins, or the user themselves" })
  @ApiOkResponse({ type: TokenListDto })
  @ApiErrors(400, 403, 404)
  async listTokens(@Param('id', ParseIdPipe) id: string, @CurrentUser() actor: User) {
    this.users.assertAdminOrSelf(actor, id);
    const now = new Date();
    return { data: (await this.users.listTokens(id)).map((token) => presentToken(token, now)) };
  }

  @Delete(':id/tokens/:tokenId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke a token at once: admins, or the user themselves' })
  @ApiOkResponse({ type: TokenDto, description: 'The token, now revoked' })
  @ApiErrors(400, 403, 404)
  async revokeToken(
    @Param('id', ParseIdPipe) id: string,
    @Param('tokenId', ParseIdPipe) tokenId: string,
    @CurrentUser() actor: User,
  ) {
    this.users.assertAdminOrSelf(actor, id);
    return presentToken(await this.users.revokeToken(id, tokenId, { user: actor }));
  }
}
