/**
 * Eager option checks shared by the node and its namespaces. Each one names the option and the
 * value it received, so a typo fails at construction with a message that says what to fix.
 *
 * @module
 */
import { BurrowError, describe } from './errors.ts'

function bad(name: string, expected: string, value: unknown): BurrowError {
  return new BurrowError(
    'BURROW_ERR_BAD_OPTION',
    `option ${name} must be ${expected}, received ${describe(value)}`,
  )
}

/** An integer option in `[min, max]`; `undefined` gives `fallback`. */
export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`
    throw bad(name, `an integer ${range}`, value)
  }
  return value
}

/** A finite number option in `[min, max]`; `undefined` gives `fallback`. */
export function numberOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw bad(name, `a number in [${min}, ${max}]`, value)
  }
  return value
}

/** One of `choices` (strings); `undefined` gives the first. */
export function choiceOption<T extends string>(
  name: string,
  value: unknown,
  choices: readonly [T, ...T[]],
): T {
  if (value === undefined) return choices[0]
  if ((choices as readonly unknown[]).includes(value)) return value as T
  throw bad(name, choices.map((c) => `'${c}'`).join(' or '), value)
}

/** A boolean option; `undefined` gives `fallback`. */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw bad(name, 'a boolean', value)
  return value
}

/** A function option; `undefined` gives `fallback` (pass `undefined` to make it required). */
export function functionOption<F extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
  fallback?: F,
): F {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'function') throw bad(name, 'a function', value)
  return value as F
}

/** An options bag: `undefined` gives `{}`, anything but a plain object is an error. */
export function objectOption<T extends object>(name: string, value: unknown): Partial<T> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(name, 'an object', value)
  return value as Partial<T>
}

/**
 * A duration in milliseconds, from 0 (usually "off" or "never expires") to `max`, rounded up to
 * a whole millisecond; `undefined` gives `fallback`.
 */
export function durationOption(name: string, value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(value >= 0 && value <= max)) {
    throw bad(name, `a number of milliseconds from 0 to ${max}`, value)
  }
  return Math.ceil(value)
}

/**
 * Refuses option names that are not in `known`: a typo (`ttl` where the option is `ttlMs`, say)
 * would otherwise be silently ignored.
 */
export function onlyKnownOptions(name: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new BurrowError(
        'BURROW_ERR_BAD_OPTION',
        `unknown option ${name}.${key}; the known options are ${known.join(', ')}`,
      )
    }
  }
}
