import { DynamicModule, Global, Module } from '@nestjs/common';
import { ConfigModule, ConfigService, registerAs } from '@nestjs/config';
import { AppConfig, loadAppConfig } from './app-config';
import { RUNTIME_OPTIONS, RuntimeOptions } from './runtime-options';

/** The namespace of the validated AppConfig inside `@nestjs/config`: `configService.get('app')`. */
export const APP_CONFIG_NAMESPACE = 'app';

/** What `ConfigService<AppConfigShape, true>` holds: `get('app', { infer: true })` is an AppConfig. */
export interface AppConfigShape {
  [APP_CONFIG_NAMESPACE]: AppConfig;
}

/**
 * The configuration, through `@nestjs/config`, for every module: the one global module of the
 * application (every other module imports what it uses).
 *
 * `ConfigModule` holds the AppConfig that `loadAppConfig` (app-config.ts, the one validation)
 * built, under the `app` namespace, and nothing else: no .env file read by it (main.ts and the CLI
 * read one before validating), no fallback to raw `process.env` in `ConfigService.get`. It is
 * handed over as a `load` factory rather than `validate`, because `validate`'s result is copied
 * into `process.env` (top-level strings such as `databaseUrl`), which would spread secrets there.
 *
 * Modules inject the typed `AppConfig` (a provider read from ConfigService) or
 * `ConfigService<AppConfigShape, true>`; this process's RuntimeOptions sit beside it.
 */
@Global()
@Module({})
export class AppConfigModule {
  /**
   * `config`: the AppConfig already validated by the caller (main.ts, the CLI, tests); without it
   * the environment is validated here, and a ConfigError names every bad variable, never a value.
   */
  static forRoot(config: AppConfig | undefined, runtime: RuntimeOptions): DynamicModule {
    const app = registerAs(APP_CONFIG_NAMESPACE, () => config ?? loadAppConfig(process.env));
    return {
      module: AppConfigModule,
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, validatePredefined: false, skipProcessEnv: true, load: [app] })],
      providers: [
        {
          provide: AppConfig,
          useFactory: (configService: ConfigService<AppConfigShape, true>) => configService.get(APP_CONFIG_NAMESPACE, { infer: true }),
          inject: [ConfigService],
        },
        { provide: RUNTIME_OPTIONS, useValue: runtime },
      ],
      exports: [ConfigModule, AppConfig, RUNTIME_OPTIONS],
    };
  }
}
