// deno-lint-ignore-file no-explicit-any
// Minimal typings for the subset of @std/assert used by the tests.
export declare class AssertionError extends Error {
  constructor(message: string, options?: ErrorOptions);
}
export declare function assert(expr: unknown, msg?: string): asserts expr;
export declare function assertEquals<T>(
  actual: T,
  expected: T,
  msg?: string,
): void;
export declare function assertStrictEquals<T>(
  actual: unknown,
  expected: T,
  msg?: string,
): asserts actual is T;
export declare function assertThrows(fn: () => unknown, msg?: string): unknown;
export declare function assertRejects(
  fn: () => PromiseLike<unknown>,
  msg?: string,
): Promise<unknown>;
export declare function fail(msg?: string): never;
export declare function assertFalse(expr: unknown, msg?: string): asserts expr is false;
export declare function assertNotEquals<T>(actual: T, expected: T, msg?: string): void;
export declare function assertExists<T>(
  actual: T,
  msg?: string,
): asserts actual is NonNullable<T>;
export declare function assertMatch(actual: string, expected: RegExp, msg?: string): void;
export declare function assertNotMatch(actual: string, expected: RegExp, msg?: string): void;
export declare function assertStringIncludes(
  actual: string,
  expected: string,
  msg?: string,
): void;
export declare function assertArrayIncludes<T>(
  actual: ArrayLike<T>,
  expected: ArrayLike<T>,
  msg?: string,
): void;
export declare function assertInstanceOf<T extends abstract new (...args: any) => any>(
  actual: unknown,
  expectedType: T,
  msg?: string,
): asserts actual is InstanceType<T>;
export declare function assertObjectMatch(
  actual: Record<PropertyKey, any>,
  expected: Record<PropertyKey, unknown>,
  msg?: string,
): void;
export declare function assertGreater<T>(actual: T, expected: T, msg?: string): void;
export declare function assertLess<T>(actual: T, expected: T, msg?: string): void;
export declare function unreachable(msg?: string): never;
