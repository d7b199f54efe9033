import { parseCountHeader } from './http-headers';

/** What the Procore client's HTTP exchanges report (metrics): each answer's status and rate-limit headers. */
export interface ProcoreHttpObserver {
  /** `status` is undefined when no answer came (network error, timeout). */
  response(status: number | undefined, rateLimit: { limit?: number; remaining?: number }): void;
}

/**
 * `fetch` that reports every Procore answer to the observer: the client, its token provider and its
 * retries all go through the one `fetch` of its options.
 */
export function observedFetch(observer: ProcoreHttpObserver, base: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    let response: Response;
    try {
      response = await base(input, init);
    } catch (error) {
      observer.response(undefined, {});
      throw error;
    }
    observer.response(response.status, {
      limit: parseCountHeader(response.headers.get('x-rate-limit-limit')),
      remaining: parseCountHeader(response.headers.get('x-rate-limit-remaining')),
    });
    return response;
  };
}
