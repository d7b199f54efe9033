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
  /** Whether the service (or a dependency built for real) got a mock of this class or token. */
  mocks(token: Token): boolean;
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

export interface TestServiceOptions {
  /**
   * Dependencies built for real rather than mocked, themselves from the same mocks: a use case
   * tested with the real SubmissionStateMachine and TransitionWork over mocked repositories and
   * outbox shows the guard, the audit event and the work a transition records.
   */
  real?: Array<new (...args: any[]) => unknown>;
}

/**
 * Builds `Service` as Nest would, but with every constructor dependency automocked (immich's
 * `newTestService`): the dependencies are read from the class's decorator metadata, `@Inject`
 * tokens included. `provided` replaces a dependency by its class or token (configuration, options);
 * `options.real` builds some for real. One mock per class, shared by everything built.
 */
export function newTestService<T>(
  Service: new (...args: any[]) => T,
  provided: Array<[Token, unknown]> = [],
  options: TestServiceOptions = {},
): TestService<T> {
  const given = new Map<Token, unknown>(provided);
  const real = new Set<Token>(options.real ?? []);
  const mocks = new Map<Token, unknown>();
  const built = new Map<Token, unknown>();
  const build = (Class: new (...args: any[]) => unknown): unknown => {
    const types: unknown[] = Reflect.getMetadata('design:paramtypes', Class) ?? [];
    const declared: Array<{ index: number; param: Token }> = Reflect.getMetadata('self:paramtypes', Class) ?? [];
    const args = types.map((type, index) => {
      const token = declared.find((entry) => entry.index === index)?.param ?? (type as Token);
      if (given.has(token)) return given.get(token);
      if (real.has(token)) {
        if (!built.has(token)) built.set(token, build(token as new (...args: any[]) => unknown));
        return built.get(token);
      }
      if (mocks.has(token)) return mocks.get(token);
      const made = typeof token === 'function' && token !== Object ? automock(token as Class) : {};
      mocks.set(token, made);
      return made;
    });
    return new Class(...args);
  };
  return {
    sut: build(Service) as T,
    mock: <D>(token: Class<D> | symbol | string) => {
      if (!mocks.has(token)) throw new Error(`${Service.name} has no mocked dependency ${String((token as Class).name ?? token)}`);
      return mocks.get(token) as Mocked<D>;
    },
    mocks: (token: Token) => mocks.has(token),
  };
}
