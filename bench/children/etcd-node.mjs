// A node for bench/etcd.mjs: listens on a free port, finds its peers through etcd (options from
// the environment), and reports its id once registered.

import { etcdPeers } from '../../dist/etcd.js'
import { Burrow } from '../../dist/index.js'

const node = new Burrow({ self: 'http://127.0.0.1:0', peers: etcdPeers(JSON.parse(process.env.BURROW_ETCD)) })
await node.listen()
process.on('disconnect', () => process.exit(0))
process.send({ self: node.self })
