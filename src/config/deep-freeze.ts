// ABOUTME: Recursively freezes a plain object/array tree.
// ABOUTME: The loaded config is frozen so no module can change what another one sees.

/** Freezes `value` and everything reachable from it through own properties; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}
