/**
 * @q/kombu-testing: the transport contract suite of @q/kombu, and the waiting helpers it is
 * built on. Private to this repository: transport packages run it from their own tests.
 */
export { describeTransportContract } from './contract.js'
export type { InboxOptions } from './inbox.js'
export { elapse, eventually, Inbox } from './inbox.js'
export type { ContractOptions, SkipEntry } from './options.js'
