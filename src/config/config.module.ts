import { DynamicModule, Global, Module } from '@nestjs/common';
import { AppConfig } from './app-config';
import { RUNTIME_OPTIONS, RuntimeOptions } from './runtime-options';

/**
 * The validated AppConfig and this process's RuntimeOptions, for every module: the one global
 * module of the application (every other module imports what it uses).
 */
@Global()
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig, runtime: RuntimeOptions): DynamicModule {
    return {
      module: AppConfigModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: RUNTIME_OPTIONS, useValue: runtime },
      ],
      exports: [AppConfig, RUNTIME_OPTIONS],
    };
  }
}
