// A burrow node in its own process, driven over IPC by test/support/cluster.ts.
// It imports the built package, so `npm run build` must have run (npm test does).
import { Burrow } from '../../dist/index.js'

const options = JSON.parse(process.env.BURROW_NODE ?? '{}')
const node = new Burrow({ self: 'http://127.0.0.1:0', peerTimeoutMs: options.peerTimeoutMs ?? 1000 })
const ns = node.namespace('test', {
  hot: false,
  load: async (key) => {
    process.send?.({ type: 'load', self: node.self, key })
    return key === 'missing' ? undefined : `value of ${key}`
  },
})

process.on('message', async (message) => {
  if (message.type === 'peers') {
    node.setPeers(message.peers)
    process.send?.({ type: 'ack', id: message.id })
  } else if (message.type === 'get') {
    try {
      process.send?.({ type: 'value', id: message.id, value: (await ns.get(message.key)) ?? null })
    } catch (err) {
      process.send?.({ type: 'error', id: message.id, code: err.code, message: err.message })
    }
  } else if (message.type === 'close') {
    await node.close()
    process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))

await node.listen()
process.send?.({ type: 'ready', self: node.self })
