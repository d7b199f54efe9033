import 'reflect-metadata';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Class<T = unknown> = abstract new (...args: any[]) => T;
type Token = Class | symbol | string;

export type Mocked<T> = jest.Mocked<T>;

export interface TestService<T> {
  /** The service under test, built with every dependency mocked (or provided). */
  sut: T;
  /** The mock the service got for a dependency, by its class (or injection token). */
  mock<D>(token: Class<D> | symbol | string): Mocked<D>;
}

/**
 * A mock of every method of a class (its whole prototype chain): each a `jest.fn()` resolving to
 * undefined, except `transaction(work)` (repositories, the Outbox), which runs `work` — a unit
 * test sees the use case's calls, in order, without a database.
 */
export function automock<T>(Dependency: Class<T>): Mocked<T> {
  const mock: Record<string, unknown> = {};
  for (let proto = Dependency.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || name in mock) continue;
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (typeof descriptor?.value !== 'function') continue;
      mock[name] = jest.fn();
    }
  }
  if (mock.transaction) (mock.transaction as jest.Mock).mockImplementation((work: () => Promise<unknown>) => work());
  if (mock.transactionHeld) {
    (mock.transactionHeld as jest.Mock).mockImplementation(async (work: () => Promise<unknown>) => ({ result: await work(), recorded: [] }));
  }
  return mock as Mocked<T>;
}

/**
 * Builds `Service` as Nest would, but with every constructor dependency automocked (immich's
 * `newTestService`): the dependencies are read from the class's decorator metadata, `@Inject`
 * tokens included. `provided` replaces a dependency by its class or token (configuration, options).
 */
export function newTestService<T>(Service: new (...args: any[]) => T, provided: Array<[Token, unknown]> = []): TestService<T> {
  const given = new Map<Token, unknown>(provided);
  const types: unknown[] = Reflect.getMetadata('design:paramtypes', Service) ?? [];
  const declared: Array<{ index: number; param: Token }> = Reflect.getMetadata('self:paramtypes', Service) ?? [];
  const mocks = new Map<Token, unknown>();
  const args = types.map((type, index) => {
    const token = declared.find((entry) => entry.index === index)?.param ?? (type as Token);
    if (given.has(token)) return given.get(token);
    if (mocks.has(token)) return mocks.get(token);
    const made = typeof token === 'function' && token !== Object ? automock(token as Class) : {};
    mocks.set(token, made);
    return made;
  });
  return {
    sut: new Service(...args),
    mock: <D>(token: Class<D> | symbol | string) => {
      if (!mocks.has(token)) throw new Error(`${Service.name} has no mocked dependency ${String((token as Class).name ?? token)}`);
      return mocks.get(token) as Mocked<D>;
    },
  };
}
