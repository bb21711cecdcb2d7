// One burrow node configured from its environment: the process that the Kubernetes and Compose
// examples run, one per replica. Its loader reads an HTTP origin; adapt it to your data source.
//
//   BURROW_PORT     the port to serve on (default 5001)
//   BURROW_HOST     this node's address as its peers reach it (default: POD_IP, else the first
//                   non-loopback IPv4 address of this machine)
//   BURROW_DNS      a DNS name whose A records are the replicas (a headless Service, a Compose
//                   service name) ...
//   BURROW_PEERS    ... or a fixed comma-separated list of peer ids
//   BURROW_ORIGIN   where values come from: a URL with {key} in it (a 404 there is "not found")
//   BURROW_SECRET   a shared secret every client and peer must present (AUTH / Bearer); none: open
//
// It leaves the cluster gracefully on SIGTERM (what Kubernetes and `docker compose stop` send).
import { networkInterfaces } from 'node:os'
import { Burrow, dnsPeers } from 'burrow'

const port = Number(process.env.BURROW_PORT ?? 5001)
const host = process.env.BURROW_HOST ?? process.env.POD_IP ?? firstAddress()
const origin = process.env.BURROW_ORIGIN ?? 'http://127.0.0.1:8080/items/{key}'

const node = new Burrow({
  self: `http://${host}:${port}`,
  peers: process.env.BURROW_DNS
    ? dnsPeers(process.env.BURROW_DNS, { port })
    : (process.env.BURROW_PEERS ?? '').split(',').filter(Boolean),
  auth: process.env.BURROW_SECRET ? { secret: process.env.BURROW_SECRET } : undefined,
})
node.on('peers', (peers) => console.log(`ring: ${peers.join(' ')}`))
node.on('peerSourceError', (err) => console.warn(`peer source: ${err.message}`))

node.namespace('items', {
  maxBytes: 64 << 20,
  ttl: 60_000,
  load: async (key, { signal }) => {
    const res = await fetch(origin.replace('{key}', encodeURIComponent(key)), {
      signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]),
    })
    if (res.status === 404) return undefined
    if (!res.ok) throw new Error(`origin answered ${res.status}`)
    return new Uint8Array(await res.arrayBuffer())
  },
})

await node.listen({ host: '0.0.0.0', port })
console.log(`burrow node ${node.self} serving on port ${port}`)

process.once('SIGTERM', async () => {
  await node.close() // tells the peers first, lets the gets in flight finish
  process.exit(0)
})

function firstAddress() {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  }
  return '127.0.0.1'
}
