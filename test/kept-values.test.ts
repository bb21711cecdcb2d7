import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, node } from './helpers.ts'

afterEach(closeAll)

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** The JS heap in use after a full collection. */
function heapUsed(): number {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

const MIB = 1024 * 1024
/** A distinct 1 MiB string (one byte per character). */
const parentOf = (i: number): string => `${i}:`.padEnd(MIB, 'x')

describe('what the cache keeps of a value', () => {
  it('a string that is a slice of a longer one is kept without the longer one', async () => {
    const n = node()
    const ns = n.namespace('t', {
      maxBytes: 64 * MIB,
      load: (key) => parentOf(Number(key.slice(1))).slice(2, 202),
    })
    const before = heapUsed()
    // 40 loaded and 40 set, each 200 characters cut from a 1 MiB string dropped at once.
    for (let i = 0; i < 40; i++) {
      expect(await ns.get(`l${i}`)).toBe(parentOf(i).slice(2, 202))
      await ns.set(`s${i}`, parentOf(i).slice(1, 201))
    }
    const kept = heapUsed() - before
    // Views would hold the 80 parents: 80 MiB. Copies hold 80 x 200 characters.
    expect(kept).toBeLessThan(8 * MIB)
    expect(ns.peek('s7')).toBe(`:${'x'.repeat(199)}`)
    expect(ns.stats().main.items).toBe(80)
  })

  it('a value a codec cuts from a longer string is kept without it too', async () => {
    const n = node()
    const ns = n.namespace<{ i: number }>('t', {
      maxBytes: 64 * MIB,
      codec: { encode: (v) => parentOf(v.i).slice(1, 201), decode: (s) => ({ i: (s as string).length }) },
      load: (key) => ({ i: Number(key.slice(1)) }),
    })
    const before = heapUsed()
    for (let i = 0; i < 40; i++) expect(await ns.get(`l${i}`)).toEqual({ i: 200 })
    expect(heapUsed() - before).toBeLessThan(4 * MIB)
  })

  it('a long Latin-1 value is kept one byte per character, past the scratch room and past 1 M characters', async () => {
    const n = node()
    const ns = n.namespace<string>('t', {
      maxBytes: 256 * MIB,
      maxEntryBytes: 8 * MIB,
      load: () => undefined,
    })
    // Buffers are freed a little after the collection that finds them dead.
    const external = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        gc()
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return process.memoryUsage().external
    }
    const before = await external()
    const values: string[] = []
    for (let i = 0; i < 8; i++) {
      // 1.5 M characters, é among them (not ASCII, but Latin-1), cut from a longer string.
      const value = `${i}é${'x'.repeat(1_600_000)}`.slice(0, 1_500_000)
      values.push(value)
      await ns.set(`big${i}`, value)
    }
    await ns.set('mid', values[0]!.slice(0, 40_000))
    values.length = 0
    // One byte per character: 8 × 1.5 MB. Two would be 24 MB.
    expect((await external()) - before).toBeLessThan(16 * MIB)
    expect(ns.peek('big3')).toBe(`3é${'x'.repeat(1_500_000 - 2)}`)
    expect(ns.peek('mid')).toBe(`0é${'x'.repeat(40_000 - 2)}`)
  })

  it('a copied string has exactly the characters it was given', async () => {
    const n = node()
    const ns = n.namespace<string>('t', { load: () => undefined })
    const text = `head: latin-1 é, beyond 東京, an emoji 😀, lone surrogates \uD800 and \uDC00, tail`
    const cases = [text, `${text}!`.slice(3), 'plain ascii, longer than thirteen', 'é'.repeat(40)]
    for (const [i, value] of cases.entries()) {
      await ns.set(`k${i}`, value)
      expect(ns.peek(`k${i}`)).toBe(value)
    }
  })
})
