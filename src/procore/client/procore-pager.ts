import { parseCountHeader, parseLinkHeader } from './http-headers';
import { V2_MAX_PER_PAGE } from './procore-client.options';
import { ProcoreDataError } from './procore-errors';
import { Check, list, wrapped } from './procore-schema';
import { CallSpec, ProcoreTransport, validate } from './procore-transport';
import type { ProcorePage } from './procore.types';

export interface PagedSpec<T> extends CallSpec {
  item: Check<T>;
  /** v2.0 list: `{"data": [...]}`, at most 100 per page. */
  wrapped?: boolean;
}

/**
 * Procore's lists, page by page: `page` and `per_page` on every request; the `Link` header decides
 * the next page, else `Total`, else a short page ends the list. `collect` reads every page and
 * refuses an inconsistent read (Total changed between pages, fewer records than announced, one
 * record on two pages): the data changed while it was read.
 */
export class ProcorePager {
  constructor(
    private readonly transport: ProcoreTransport,
    /** Page size of v1 lists; v2.0 lists ask for at most 100. */
    private readonly perPage: number,
  ) {}

  async *pages<T>(spec: PagedSpec<T>): AsyncGenerator<ProcorePage<T>> {
    const check = spec.wrapped ? wrapped(list(spec.item)) : list(spec.item);
    const requested = spec.wrapped ? Math.min(this.perPage, V2_MAX_PER_PAGE) : this.perPage;
    let page = 1;
    let seen = 0;
    for (;;) {
      const result = await this.transport.call({ ...spec, query: { ...spec.query, page, per_page: requested } });
      const items = validate(check, result);
      const total = parseCountHeader(result.headers.get('total'));
      const perPage = parseCountHeader(result.headers.get('per-page')) || requested;
      seen += items.length;
      yield { items, page, perPage, total };

      const links = parseLinkHeader(result.headers.get('link'));
      let next: number | undefined;
      if (Object.keys(links).length) {
        next = links.next ? pageOf(links.next) ?? page + 1 : undefined;
      } else if (total !== undefined) {
        next = seen < total ? page + 1 : undefined;
      } else {
        next = items.length >= perPage ? page + 1 : undefined;
      }
      if (next === undefined || items.length === 0) return;
      if (next <= page) {
        throw new ProcoreDataError(spec.method, spec.path, `Link rel="next" of page ${page} points to page ${next}`);
      }
      page = next;
    }
  }

  async collect<T>(spec: PagedSpec<T>): Promise<T[]> {
    const all: T[] = [];
    let total: number | undefined;
    for await (const page of this.pages(spec)) {
      all.push(...page.items);
      total ??= page.total;
      // A record added or removed between pages shifts the others across page boundaries.
      if (page.total !== undefined && page.total !== total) {
        throw new ProcoreDataError(
          spec.method,
          spec.path,
          `Total went from ${total} to ${page.total} on page ${page.page}; the data changed while it was read`,
        );
      }
    }
    if (total !== undefined && all.length !== total) {
      throw new ProcoreDataError(
        spec.method,
        spec.path,
        `Procore announced ${total} records (Total) but the pages held ${all.length}; ` + 'the data changed while it was read',
      );
    }
    assertUniqueIds(all, spec);
    return all;
  }
}

function assertUniqueIds(items: unknown[], spec: CallSpec): void {
  const ids = new Set<unknown>();
  for (const item of items) {
    const itemId = (item as { id?: unknown }).id;
    if (itemId === undefined) continue;
    if (ids.has(itemId)) {
      throw new ProcoreDataError(spec.method, spec.path, `record id ${String(itemId)} appeared on two pages; the data changed while it was read`);
    }
    ids.add(itemId);
  }
}

function pageOf(url: string): number | undefined {
  try {
    const page = Number(new URL(url, 'http://procore.invalid').searchParams.get('page'));
    return Number.isSafeInteger(page) && page > 0 ? page : undefined;
  } catch {
    return undefined;
  }
}
