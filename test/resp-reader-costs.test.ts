/**
 * What a slow or hostile client can make the RESP reader spend: memory that follows the bytes
 * that arrived (not the lengths announced), and work linear in the bytes sent however they are
 * cut.
 */
import { Buffer } from 'node:buffer'
import { describe, expect, it } from 'vitest'
import { BurrowError } from '../src/errors.ts'
import { type CommandArgs, CommandReader } from '../src/transport/resp/command-reader.ts'
import { RespParser, type RespValue } from '../src/transport/resp/reader.ts'

const MiB = 1024 * 1024

/** A command reader that collects what it reads, as the server's connection would run it. */
function commandReader(maxFrameBytes = 32 * MiB): {
  reader: CommandReader<{ binaryFrom: number }>
  seen: CommandArgs[]
} {
  const seen: CommandArgs[] = []
  const reader = new CommandReader({
    maxFrameBytes,
    lookup: (name) => (name.toUpperCase() === 'BURROW.SET' ? { binaryFrom: 3 } : undefined),
    onCommand: (_, args) => seen.push(args),
    onInvalid: () => seen.push(['invalid']),
  })
  return { reader, seen }
}

/**
 * The bytes that Buffer's native scans and copies (`indexOf`, `copy`, `concat`) go over while
 * `run` runs. The reader does its bulk work through these, so a reader that rescans or recopies
 * what it already holds shows here as a total that grows with the square of the input.
 */
function bytesTouched(run: () => void): number {
  let touched = 0
  const { concat } = Buffer
  const { indexOf, copy } = Buffer.prototype
  Buffer.concat = (list: readonly Uint8Array[], total?: number) => {
    const out = concat.call(Buffer, list, total)
    touched += out.length
    return out
  }
  Buffer.prototype.indexOf = function (this: Buffer, ...args: Parameters<Buffer['indexOf']>) {
    const from = typeof args[1] === 'number' ? args[1] : 0
    touched += this.length - (from < 0 ? Math.max(0, this.length + from) : Math.min(from, this.length))
    return indexOf.apply(this, args)
  }
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>) {
    const n = copy.apply(this, args)
    touched += n
    return n
  }
  try {
    run()
  } finally {
    Buffer.concat = concat
    Buffer.prototype.indexOf = indexOf
    Buffer.prototype.copy = copy
  }
  return touched
}

function oneByteAtATime(bytes: Buffer, feed: (chunk: Buffer) => void): void {
  for (let i = 0; i < bytes.length; i++) feed(bytes.subarray(i, i + 1))
}

describe('memory follows the bytes that arrived, not the length announced', () => {
  it('20 bulk strings announced at 32 MiB each with a few bytes sent hold kilobytes, not 640 MiB', () => {
    const announced = 32 * MiB
    const before = process.memoryUsage().arrayBuffers
    const readers = Array.from({ length: 10 }, () => commandReader(announced + 1024))
    for (const { reader } of readers) {
      reader.feed(Buffer.from(`*4\r\n$10\r\nBURROW.SET\r\n$4\r\ntest\r\n$1\r\nk\r\n$${announced}\r\n`))
      reader.feed(Buffer.from('a few bytes'))
    }
    const parsers = Array.from({ length: 10 }, () => new RespParser({ maxFrameBytes: announced + 1024 }))
    for (const parser of parsers) {
      parser.feed(Buffer.from(`$${announced}\r\nthe start`), () => {})
      parser.feed(Buffer.from(' of a value'), () => {})
    }
    const grown = process.memoryUsage().arrayBuffers - before
    expect(grown).toBeLessThan((20 * announced) / 100)
    expect(readers.every(({ seen }) => seen.length === 0)).toBe(true)
    expect(parsers.every((parser) => !parser.idle)).toBe(true)
  })

  it('a bulk string that trickles in still arrives whole and exact, in memory of its own', () => {
    const value = Buffer.alloc(3 * MiB + 17)
    for (let i = 0; i < value.length; i++) value[i] = (i * 31 + (i >> 9)) & 0xff
    const stream = Buffer.concat([
      Buffer.from(`*2\r\n$4\r\nping\r\n$${value.length}\r\n`),
      value,
      Buffer.from('\r\n'),
    ])
    for (const size of [1000, 65536, 1 << 20]) {
      const got: RespValue[] = []
      const parser = new RespParser()
      for (let at = 0; at < stream.length; at += size)
        parser.feed(stream.subarray(at, at + size), (v) => got.push(v))
      expect(got).toHaveLength(1)
      const bulk = (got[0] as Buffer[])[1]!
      expect(bulk.equals(value)).toBe(true)
      expect(bulk.buffer.byteLength).toBe(value.length)
    }
  })
})

describe('work is linear in the bytes sent, however they are cut', () => {
  const size = 60_000

  it('a 60 KB inline command sent one byte at a time', () => {
    const { reader, seen } = commandReader()
    const line = Buffer.from(`PING ${'x'.repeat(size - 7)}\r\n`)
    const touched = bytesTouched(() => oneByteAtATime(line, (chunk) => reader.feed(chunk)))
    expect(seen).toEqual([['PING', 'x'.repeat(size - 7)]])
    expect(touched).toBeLessThan(10 * size)
  })

  it('a 60 KB simple string or error sent one byte at a time', () => {
    for (const type of ['+', '-']) {
      const got: RespValue[] = []
      const parser = new RespParser()
      const line = Buffer.from(`${type}${'y'.repeat(size)}\r\n`)
      const touched = bytesTouched(() =>
        oneByteAtATime(line, (chunk) => parser.feed(chunk, (v) => got.push(v))),
      )
      expect(got).toHaveLength(1)
      expect(touched).toBeLessThan(10 * size)
    }
  })

  it('a length line padded with 60 KB of zeros is refused within its first bytes', () => {
    for (const type of ['$', '*', ':']) {
      const { reader } = commandReader()
      const line = Buffer.from(`${type}${'0'.repeat(size)}5\r\n`)
      let fed = 0
      let thrown: unknown
      const touched = bytesTouched(() => {
        try {
          oneByteAtATime(line, (chunk) => {
            fed++
            reader.feed(chunk)
          })
        } catch (err) {
          thrown = err
        }
      })
      expect(thrown).toBeInstanceOf(BurrowError)
      expect((thrown as BurrowError).code).toBe('BURROW_ERR_PROTOCOL')
      expect(fed).toBeLessThan(64)
      expect(touched).toBeLessThan(10 * 64)
    }
  })
})
