/**
 * groupcache's GetResponse, encoded and decoded byte for byte as Go's own protobuf code does
 * (fixtures/groupcache-wire-fixture.json, made by golang/protobuf 1.3.5), and every malformed
 * input refused with a coded error.
 */
import { describe, expect, it } from 'vitest'
import { BurrowError } from '../src/index.ts'
import { decodeGetResponse, encodeGetResponse } from '../src/transport/groupcache/get-response.ts'
import fixture from './fixtures/groupcache-wire-fixture.json' with { type: 'json' }

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const fromHex = (text: string): Buffer => Buffer.from(text, 'hex')

const ABBREVIATED = /^([0-9a-f]*)\.\.\.\((\d+) bytes(?: total)?\)$/

/**
 * A fixture's encoding. Long ones are abbreviated there as `PREFIX...(N bytes total)`: the value is
 * the prefix's last byte repeated (`value-of:xxxx…`, `zzzz…`) up to N bytes in all.
 */
function expand(text: string): Buffer {
  const m = ABBREVIATED.exec(text)
  if (m === null) return fromHex(text)
  const prefix = fromHex(m[1] as string)
  const out = Buffer.alloc(Number(m[2]), prefix[prefix.length - 1])
  prefix.copy(out)
  return out
}

/** A fixture's value (`hexOfValue`, abbreviated or not): an abbreviated one is the tail of the expanded encoding. */
function fixtureValue(hexOfValue: string, encodedHex: string): Buffer {
  const m = ABBREVIATED.exec(hexOfValue)
  if (m === null) return fromHex(hexOfValue)
  const encoded = expand(encodedHex)
  const value = encoded.subarray(encoded.length - Number(m[2]))
  expect(hex(value).startsWith(m[1] as string)).toBe(true)
  return value
}

function refused(bytes: Uint8Array): BurrowError {
  let thrown: unknown
  try {
    decodeGetResponse(bytes)
  } catch (err) {
    thrown = err
  }
  expect(thrown).toBeInstanceOf(BurrowError)
  expect((thrown as BurrowError).code).toBe('BURROW_ERR_PROTOCOL')
  return thrown as BurrowError
}

describe("GetResponse against Go's encodings", () => {
  for (const c of fixture.getResponse) {
    it(`decodes: ${c.name}`, () => {
      const encoded = expand(c.encodedHex)
      const decoded = decodeGetResponse(encoded)
      expect(hex(decoded.value ?? new Uint8Array(0))).toBe(hex(fixtureValue(c.decodedValueHex, c.encodedHex)))
      expect(decoded.value === undefined).toBe(c.valueHex === null)
      if (c.name.includes('NaN')) expect(decoded.minuteQps).toBeNaN()
      else expect(decoded.minuteQps ?? 0).toBe(c.decodedMinuteQps)
    })
    // The NaN case has no minuteQps to encode from (JSON has no NaN): its bytes are checked above.
    if (c.name.includes('NaN')) continue
    it(`encodes: ${c.name}`, () => {
      const encoded = encodeGetResponse({
        value: c.valueHex === null ? undefined : fixtureValue(c.valueHex, c.encodedHex),
        minuteQps: c.minuteQps ?? undefined,
      })
      expect(hex(encoded)).toBe(hex(expand(c.encodedHex)))
    })
  }

  it('encodes a string value as its UTF-8 bytes, like the same bytes', () => {
    expect(hex(encodeGetResponse({ value: 'grüße' }))).toBe(
      hex(encodeGetResponse({ value: Buffer.from('grüße') })),
    )
    expect(hex(encodeGetResponse({ value: 'value-of:k0' }))).toBe('0a0b76616c75652d6f663a6b30')
  })

  for (const c of fixture.decoderTolerance) {
    it(`${c.goUnmarshalOK ? 'accepts' : 'refuses'}, as Go does: ${c.name}`, () => {
      const input = fromHex(c.inputHex)
      if (!c.goUnmarshalOK) {
        expect(refused(input).message).toMatch(/truncated/)
        return
      }
      const decoded = decodeGetResponse(input)
      expect(hex(decoded.value ?? new Uint8Array(0))).toBe(c.decodedValueHex)
      expect(decoded.minuteQps ?? 0).toBe(c.decodedMinuteQps)
    })
  }

  // A GetRequest's field 1 (group) has the wire type of GetResponse's value, and its field 2 (key)
  // is length-delimited where minute_qps is a double: read as a GetResponse, Go's bytes give the
  // group as the value and skip the key as a known field of another wire type.
  for (const c of fixture.getRequest) {
    it(`reads Go's GetRequest ${JSON.stringify(c.group)}/${JSON.stringify(c.key)}: field 1 written alike, field 2 skipped`, () => {
      const encoded = fromHex(c.encodedHex)
      const decoded = decodeGetResponse(encoded)
      expect(Buffer.from(decoded.value ?? []).toString()).toBe(c.group)
      expect(decoded.minuteQps).toBeUndefined()
      const field1 = encodeGetResponse({ value: c.group })
      expect(hex(encoded.subarray(0, field1.length))).toBe(hex(field1))
    })
  }
})

describe('GetResponse decoding, past the fixture', () => {
  it('returns the value as a view of the input, not a copy', () => {
    const input = fromHex('0a03616263')
    const { value } = decodeGetResponse(input)
    expect(value?.buffer).toBe(input.buffer)
    expect(Buffer.from(value ?? []).toString()).toBe('abc')
  })

  it('skips unknown fields of every wire type, groups (nested) included', () => {
    const input = Buffer.concat([
      fromHex('1896ed02'), // field 3, varint (3 bytes)
      fromHex('210102030405060708'), // field 4, fixed64
      fromHex('2a03787878'), // field 5, bytes
      fromHex('3501020304'), // field 6, fixed32
      fromHex('3b'), // field 7, start group
      fromHex('0801'), //   field 1 varint inside the group (not the value)
      fromHex('43'), //   field 8, start group (nested)
      fromHex('0a0178'), //     field 1 bytes inside: not the value either
      fromHex('44'), //   end of group 8
      fromHex('3c'), // end of group 7
      fromHex('0a0176'), // the value
      fromHex('8aa0ffff0f00'), // field 1 with a wire type of bytes but a huge field number: skipped
    ])
    // 0x8a 0xa0 ...: tag varint 0x..., field number far above 2, so not the value.
    const decoded = decodeGetResponse(input)
    expect(hex(decoded.value ?? new Uint8Array(0))).toBe('76')
  })

  it('treats field 1 of a wire type other than bytes as unknown, as Go does', () => {
    expect(decodeGetResponse(fromHex('0805')).value).toBeUndefined() // field 1 as a varint
    expect(hex(decodeGetResponse(fromHex('0a0176' + '0805')).value ?? new Uint8Array(0))).toBe('76')
  })

  it('accepts non-minimal varints in tags and lengths', () => {
    // Tag 0x0a written in two bytes, then length 1 written in three.
    const decoded = decodeGetResponse(fromHex('8a00' + '818000' + '76'))
    expect(hex(decoded.value ?? new Uint8Array(0))).toBe('76')
  })

  it('lets the last minute_qps win', () => {
    const input = Buffer.concat([
      encodeGetResponse({ minuteQps: 1 }),
      encodeGetResponse({ value: 'v', minuteQps: 2.5 }),
    ])
    expect(decodeGetResponse(input).minuteQps).toBe(2.5)
  })

  it('encodes and decodes values whose length needs 1 to 4 varint bytes', () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 2_097_151, 2_097_152]) {
      const value = Buffer.alloc(n, 0x5a)
      const encoded = encodeGetResponse({ value })
      expect(decodeGetResponse(encoded).value?.byteLength).toBe(n)
      expect(encoded.length).toBe(1 + (n < 128 ? 1 : n < 16384 ? 2 : n < 2_097_152 ? 3 : 4) + n)
    }
  })

  it('refuses truncated input of every kind with BURROW_ERR_PROTOCOL', () => {
    const cases = [
      '0a', // a tag, no length
      '0a80', // a length varint cut short
      '0a0561', // a length past the end (Go: unexpected EOF)
      '11000000', // half a fixed64
      '1d0102', // half a fixed32 (unknown field 3)
      '18ff', // an unknown varint cut short
      '3b0801', // a group never ended
      '8a', // a tag varint cut short
    ]
    for (const c of cases) expect(refused(fromHex(c)).message).toMatch(/truncated/)
  })

  it('refuses malformed input with BURROW_ERR_PROTOCOL', () => {
    expect(refused(fromHex('0001')).message).toMatch(/field number 0/)
    expect(refused(fromHex('0e')).message).toMatch(/wire type 6/)
    expect(refused(fromHex('0f')).message).toMatch(/wire type 7/)
    expect(refused(fromHex('3c')).message).toMatch(/group end without its start/)
    expect(refused(fromHex('3b44')).message).toMatch(/group 7 ended by group 8/)
    // A length varint of 11 bytes, and one whose tenth byte sets bits past 64.
    expect(refused(fromHex(`0a${'ff'.repeat(10)}01`)).message).toMatch(/varint/)
    expect(refused(fromHex(`0a${'ff'.repeat(9)}02`)).message).toMatch(/longer than 64 bits/)
    // A 64-bit length: larger than any input.
    expect(refused(fromHex(`0a${'ff'.repeat(9)}01`)).message).toMatch(/truncated/)
    // Groups nested past the bound.
    expect(refused(fromHex('3b'.repeat(100))).message).toMatch(/nested/)
  })

  it('never throws anything but a BurrowError on random input (10,000 cases)', () => {
    let seed = 12345
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed >>> 16
    }
    let decoded = 0
    for (let i = 0; i < 10_000; i++) {
      const input = Buffer.alloc(next() % 24)
      for (let j = 0; j < input.length; j++) input[j] = next() & 0xff
      try {
        const response = decodeGetResponse(input)
        if (response.value !== undefined) expect(response.value.byteLength).toBeLessThanOrEqual(input.length)
        decoded++
      } catch (err) {
        expect(err).toBeInstanceOf(BurrowError)
      }
    }
    expect(decoded).toBeGreaterThan(0)
  })
})
