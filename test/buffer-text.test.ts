import { Buffer } from 'node:buffer'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { latin1Text, utf8Text } from '../src/buffer-text.ts'

describe('text out of a Buffer', () => {
  it('latin1Text gives one character per byte, for every length and every byte value', () => {
    // Every length from 0 to past the short path's bound, at an offset, over all 256 byte values.
    const bytes = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37 + 11) & 0xff))
    for (let length = 0; length <= 40; length++) {
      for (const start of [0, 1, 7, 255, 555]) {
        expect(latin1Text(bytes, start, start + length)).toBe(bytes.toString('latin1', start, start + length))
      }
    }
  })

  it('latin1Text agrees with toString for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), fc.nat(8), (array, pad) => {
        const buf = Buffer.concat([Buffer.alloc(pad), Buffer.from(array)])
        expect(latin1Text(buf, pad, buf.length)).toBe(Buffer.from(array).toString('latin1'))
      }),
    )
  })

  it('latin1Text refuses a range past the end, as toString does', () => {
    const buf = Buffer.from('abcd')
    expect(() => latin1Text(buf, 0, 6)).toThrow(RangeError)
  })

  it('utf8Text decodes UTF-8 as toString does', () => {
    const text = 'key é 東京 😀'
    const buf = Buffer.from(`xx${text}yy`)
    expect(utf8Text(buf, 2, buf.length - 2)).toBe(text)
  })
})
