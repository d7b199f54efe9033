import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join } from 'node:path';
import type { Response } from 'express';
import { Public } from '../common/auth.decorators';

const TYPES: Record<string, string> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.svg': 'image/svg+xml' };

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** `/` and `/console` lead to the budgets awaiting acceptance; `/console/assets/*` are the console's own files, read once. */
@ApiExcludeController()
@Public()
@Controller()
export class ConsoleRootController {
  private readonly assets = loadAssets(join(__dirname, 'assets'));

  @Get()
  root(@Res() response: Response) {
    response.redirect(302, '/console');
  }

  @Get('console')
  console(@Res() response: Response) {
    response.redirect(302, '/console/budgets?status=ready_to_export');
  }

  @Get('console/assets/:name')
  asset(@Param('name') name: string, @Res() response: Response) {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException(`No console asset named ${name.slice(0, 60)}`);
    if (response.req.headers['if-none-match'] === asset.etag) return response.status(304).end();
    response.setHeader('ETag', asset.etag);
    response.setHeader('Cache-Control', 'no-cache'); // revalidated by ETag, never stale after an upgrade
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.type(asset.type).send(asset.body);
  }
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    assets.set(name, { body, type, etag: `"${createHash('sha1').update(body).digest('base64url')}"` });
  }
  return assets;
}
