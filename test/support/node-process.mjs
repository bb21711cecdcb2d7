// A burrow node in its own process, driven over IPC by test/support/cluster.ts.
// It imports the built package, so `npm run build` must have run (npm test does).
import { Burrow } from '../../dist/index.js'

const options = JSON.parse(process.env.BURROW_NODE ?? '{}')
// The parent moves this clock (a 'clock' message), so TTLs are tested without sleeping.
const clock = { t: options.now ?? Date.now(), now: () => (options.now === undefined ? Date.now() : clock.t) }
// With `etcd`, the node finds its peers through etcdPeers (loaded only then).
const peers =
  options.etcd === undefined ? options.peers : (await import('../../dist/etcd.js')).etcdPeers(options.etcd)
const node = new Burrow({
  self: options.self ?? 'http://127.0.0.1:0',
  ...(peers ? { peers } : {}),
  ...(options.liveness ? { liveness: options.liveness } : {}),
  peerTimeoutMs: options.peerTimeoutMs ?? 1000,
  clock,
  ...(options.certainHot ? { random: () => 0 } : {}),
})
const ns = node.namespace('test', {
  hot: false,
  ...options.namespace,
  load: async (key) => {
    process.send?.({ type: 'load', self: node.self, key })
    if (options.loadDelayMs) await new Promise((resolve) => setTimeout(resolve, options.loadDelayMs))
    return key === 'missing' ? undefined : `value of ${key}`
  },
})

/** Runs `work` and answers the parent with its value, or with the error's code. */
async function answer(id, work) {
  try {
    const value = await work()
    process.send?.({ type: 'value', id, value: value ?? null })
  } catch (err) {
    process.send?.({ type: 'error', id, code: err.code, message: err.message })
  }
}

process.on('message', async (message) => {
  const { id } = message
  if (message.type === 'peers') {
    node.setPeers(message.peers)
    process.send?.({ type: 'ack', id })
  } else if (message.type === 'clock') {
    clock.t = message.now
    process.send?.({ type: 'ack', id })
  } else if (message.type === 'get') {
    await answer(id, () => ns.get(message.key))
  } else if (message.type === 'peek') {
    await answer(id, () => ns.peek(message.key))
  } else if (message.type === 'set') {
    await answer(id, async () => JSON.stringify(await ns.set(message.key, message.value, message.options)))
  } else if (message.type === 'delete') {
    await answer(id, async () => JSON.stringify(await ns.delete(message.key)))
  } else if (message.type === 'close') {
    await node.close()
    process.send?.({ type: 'ack', id }, () => process.exit(0))
  }
})
process.on('disconnect', () => process.exit(0))
// A frozen child (SIGSTOP) that its parent kills while it is stopped is not left behind.
process.on('SIGCONT', () => {
  if (!process.connected) process.exit(0)
})

await node.listen()
process.send?.({ type: 'ready', self: node.self })
