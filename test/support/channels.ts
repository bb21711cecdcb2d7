/** A recorder of burrow's diagnostics channels, for tests: every message, in order, with waits. */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import {
  type DiagnosticsChannelName,
  type DiagnosticsMessages,
  diagnosticsChannels,
  type PublishingNode,
} from '../../src/index.ts'
import { onCleanup } from '../helpers.ts'

export interface Recorded {
  name: DiagnosticsChannelName
  message: DiagnosticsMessages[DiagnosticsChannelName]
}

export interface ChannelRecorder {
  /** Every message so far, in order. */
  readonly seen: Recorded[]
  /** The messages of channel `name` so far (of `node` only, when given). */
  of<N extends DiagnosticsChannelName>(name: N, node?: PublishingNode): DiagnosticsMessages[N][]
  /** The first message of `name` (of `node`, when given) that passes `test`: seen already, or when it comes. */
  when<N extends DiagnosticsChannelName>(
    name: N,
    test?: (message: DiagnosticsMessages[N]) => boolean,
  ): Promise<DiagnosticsMessages[N]>
}

/** Subscribes to every burrow channel until the next `closeAll()`. */
export function recordChannels(): ChannelRecorder {
  const seen: Recorded[] = []
  const waiters: { name: string; test: (m: never) => boolean; resolve: (m: never) => void }[] = []
  for (const name of Object.values(diagnosticsChannels)) {
    const onMessage = (message: unknown): void => {
      seen.push({ name, message: message as Recorded['message'] })
      for (const waiter of [...waiters]) {
        if (waiter.name !== name || !waiter.test(message as never)) continue
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(message as never)
      }
    }
    subscribe(name, onMessage)
    onCleanup(() => unsubscribe(name, onMessage))
  }
  const of = <N extends DiagnosticsChannelName>(name: N, node?: PublishingNode) =>
    seen
      .filter((r) => r.name === name && (node === undefined || r.message.node === node))
      .map((r) => r.message as DiagnosticsMessages[N])
  return {
    seen,
    of,
    when: (name, test = () => true) => {
      const found = of(name).find(test)
      if (found !== undefined) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ name, test: test as never, resolve: resolve as never }))
    },
  }
}
