/**
 * `burrow/etcd`: membership through etcd. Needs the optional peer dependency `etcd3`; the core
 * package never loads it.
 *
 * @example
 * import { etcdPeers } from 'burrow/etcd'
 * const node = new Burrow({ self, peers: etcdPeers({ endpoints: ['http://127.0.0.1:2379'] }) })
 *
 * @module
 */
export { type EtcdPeersOptions, etcdPeers } from './membership/etcd-peers.ts'
