import { ProcoreLogger } from './procore-client.options';
import { ProcoreApiError } from './procore-errors';

export type HooksApi = 'v2' | 'v1';

/**
 * Which webhooks API the company answers. v2.0 is preferred; a company answering 404 there gets the
 * v1.0 hooks API Procore's developer guide documents. Decided on the first hooks call, then kept.
 */
export class HooksApiChoice {
  private chosen?: HooksApi;

  constructor(private readonly logger: ProcoreLogger) {}

  get current(): HooksApi | undefined {
    return this.chosen;
  }

  /**
   * Runs a hooks call on the company's hooks API: v2.0 unless the company answered 404 there, in
   * which case the v1.0 call is made (and v1.0 is kept once it answers). A 404 from v1.0 too is
   * the v2.0 error: the resource itself is missing.
   */
  async run<T>(viaV2: () => Promise<T>, viaV1: () => Promise<T>): Promise<T> {
    if (this.chosen === 'v1') return viaV1();
    try {
      const result = await viaV2();
      this.chosen = 'v2';
      return result;
    } catch (error) {
      if (this.chosen === 'v2' || !(error instanceof ProcoreApiError) || error.status !== 404) throw error;
      let result: T;
      try {
        result = await viaV1();
      } catch (fallback) {
        if (fallback instanceof ProcoreApiError && fallback.status === 404) throw error;
        throw fallback;
      }
      this.chosen = 'v1';
      this.logger.warn('Procore answered 404 to the v2.0 webhooks API; using the v1.0 hooks API the developer guide documents');
      return result;
    }
  }
}
