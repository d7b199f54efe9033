import { Test } from '@nestjs/testing';
import { ConfigService } from '@nestjs/config';
import { AppConfig, loadAppConfig } from './app-config';
import { AppConfigModule, AppConfigShape } from './config.module';
import { RUNTIME_OPTIONS, runtimeOptions } from './runtime-options';

const env = {
  DATABASE_URL: 'postgres://connector:s3cret-db-pass@db.internal:5432/connector',
  PROCORE_CLIENT_ID: 'client',
  PROCORE_CLIENT_SECRET: 'procore-client-secret-value',
  PROCORE_COMPANY_ID: '8',
  PROCORE_WEBHOOK_SECRET: 'webhook-secret-value-0123456789abcdef',
  SPECTRUM_URL: 'https://spectrum.example.com:8482',
  SPECTRUM_AUTHORIZATION_ID: 'API',
  SPECTRUM_COMPANY_CODE: 'ABC',
  SMTP_URL: 'smtp://mailer:mail-pass@smtp.example.com:587',
};

describe('AppConfigModule', () => {
  it('serves the validated AppConfig through @nestjs/config, typed, and leaves process.env alone', async () => {
    const config = loadAppConfig({ ...env, SPECTRUM_COST_TYPES: 'L,M', RECONCILE_TOLERANCE: '1.50' });
    const envBefore = { ...process.env };
    const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule.forRoot(config, runtimeOptions({ queuePrefix: 'x' }))] }).compile();
    const configService = moduleRef.get<ConfigService<AppConfigShape, true>>(ConfigService);
    expect(moduleRef.get(AppConfig)).toBe(config);
    expect(configService.get('app', { infer: true })).toBe(config);
    expect(configService.get('app.procore.companyId', { infer: true })).toBe(8);
    // Sets and bigints come through as they are (no deep copy).
    expect(moduleRef.get(AppConfig).spectrum.costTypes).toEqual(new Set(['L', 'M']));
    expect(moduleRef.get(AppConfig).reconcileTolerance).toBe(150n);
    expect(moduleRef.get(RUNTIME_OPTIONS)).toMatchObject({ queuePrefix: 'x' });
    // Only the validated config: no raw variable, and nothing copied into process.env.
    expect(configService.get('PATH' as never)).toBeUndefined();
    expect(process.env).toEqual(envBefore);
    await moduleRef.close();
  });
});
