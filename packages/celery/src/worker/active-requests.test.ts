import { describe, expect, it } from 'vitest'
import { ActiveRequests, type Listed } from './active-requests.js'

class Item implements Listed<Item> {
  listPrev: Item | undefined = undefined
  listNext: Item | undefined = undefined
  listed = false
  constructor(readonly id: string) {}
}

const ids = (list: ActiveRequests<Item>) => [...list].map((i) => i.id)

describe('ActiveRequests', () => {
  it('keeps arrival order through removals from the head, middle and tail', () => {
    const list = new ActiveRequests<Item>()
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((id) => new Item(id)) as [Item, Item, Item, Item]
    for (const i of [a, b, c, d]) list.add(i)
    list.add(b) // already listed: stays where it is
    expect(ids(list)).toEqual(['a', 'b', 'c', 'd'])
    list.remove(c)
    list.remove(c) // not listed any more: ignored
    expect(ids(list)).toEqual(['a', 'b', 'd'])
    list.remove(a)
    list.remove(d)
    expect(ids(list)).toEqual(['b'])
    expect(list.size).toBe(1)
    list.remove(b)
    expect(list.size).toBe(0)
    expect(ids(list)).toEqual([])
    list.add(d)
    expect(ids(list)).toEqual(['d'])
  })

  it('finds by task id, deletes every request of an id, and lets the current one go while iterating', () => {
    const list = new ActiveRequests<Item>()
    const items = ['x', 'y', 'x', 'z'].map((id) => new Item(id))
    for (const i of items) list.add(i)
    expect(list.get('x')).toBe(items[0])
    expect(list.has('z')).toBe(true)
    expect(list.has('w')).toBe(false)
    list.delete('x')
    expect(ids(list)).toEqual(['y', 'z'])
    for (const i of list) list.remove(i)
    expect(list.size).toBe(0)
  })
})
