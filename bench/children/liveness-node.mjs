// A node for bench/liveness.mjs: listens on a free port, takes its peer list over IPC.
import { Burrow } from '../../dist/index.js'

const node = new Burrow({ self: 'http://127.0.0.1:0' })
node.namespace('test', { load: (key) => key })
await node.listen()
process.on('message', (m) => node.setPeers(m.peers))
process.on('disconnect', () => process.exit(0))
process.send({ self: node.self })
