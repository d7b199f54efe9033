import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { spectrumClientOptionsFromConfig } from './spectrum-client.options';
import { SpectrumSemaphore } from './spectrum-concurrency';
import { SpectrumSoapClient } from './spectrum-soap.client';

export interface SpectrumModuleOptions {
  /** Redis key prefix of the concurrency semaphore. Default `connector:spectrum`. */
  keyPrefix?: string;
  /** Lease of a concurrency permit. Default 30 000 ms. */
  permitLeaseMs?: number;
}

/**
 * The Spectrum client and the cross-process concurrency semaphore, built from AppConfig.
 * Both close their connections when the application shuts down.
 */
@Module({})
export class SpectrumModule {
  static forRoot(options: SpectrumModuleOptions = {}): DynamicModule {
    return {
      module: SpectrumModule,
      providers: [
        {
          provide: SpectrumSoapClient,
          useFactory: (config: AppConfig) => new SpectrumSoapClient(spectrumClientOptionsFromConfig(config.spectrum)),
          inject: [AppConfig],
        },
        {
          provide: SpectrumSemaphore,
          useFactory: (config: AppConfig) =>
            new SpectrumSemaphore({
              redis: config.redisUrl,
              keyPrefix: `${options.keyPrefix ?? 'connector:spectrum'}:concurrency`,
              limit: config.spectrum.concurrency,
              leaseMs: options.permitLeaseMs ?? 30_000,
            }),
          inject: [AppConfig],
        },
      ],
      exports: [SpectrumSoapClient, SpectrumSemaphore],
    };
  }
}
