// The seed's example, grown up: three burrow nodes on 127.0.0.1:5001-5003, one namespace `test`
// backed by a tiny "database". Any node answers any key; each key is loaded once, by its owner.
// Run with `npm start`; stop with Ctrl-C.
import { Burrow } from 'burrow'

const db = { 6.824: 'MIT', 15213: 'CMU', 15445: 'CMU' }
const peers = ['http://127.0.0.1:5001', 'http://127.0.0.1:5002', 'http://127.0.0.1:5003']

const nodes = peers.map((self) => {
  const node = new Burrow({ self, peers })
  node.namespace('test', {
    maxBytes: 1 << 20,
    load: async (key) => {
      console.log(`[${self}] loading ${JSON.stringify(key)} from the database`)
      return db[key] // undefined means "not found": a 404 over HTTP, nil over RESP
    },
  })
  return node
})

await Promise.all(nodes.map((node) => node.listen()))
console.log(`burrow: three nodes up: ${peers.join(', ')}\n`)
console.log('Ask any node for any key (each key is loaded once, by its owner):')
console.log('  curl http://127.0.0.1:5001/burrow/test/6.824     # MIT')
console.log('  curl http://127.0.0.1:5002/burrow/test/15213     # CMU')
console.log('  curl -i http://127.0.0.1:5003/burrow/test/nope   # 404, x-burrow-status: not-found')
console.log('  redis-cli -p 5003 BURROW.GET test 15445          # "CMU" (the RESP peer protocol)')
console.log('  redis-cli -p 5001 BURROW.STATS                   # counters as JSON')
console.log('\nCtrl-C to stop.')

let stopping = false
const stop = async () => {
  if (stopping) return
  stopping = true
  console.log('\nclosing the nodes...')
  await Promise.all(nodes.map((node) => node.close()))
  console.log('closed.')
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
