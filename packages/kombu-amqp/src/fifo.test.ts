import { describe, expect, it } from 'vitest'
import { Fifo } from './fifo.js'

describe('Fifo', () => {
  it('gives items back in order across its compactions, pushes and shifts interleaved', () => {
    const fifo = new Fifo<number>()
    const out: number[] = []
    let next = 0
    for (let round = 0; round < 50; round++) {
      for (let k = 0; k < 100; k++) fifo.push(next++)
      for (let k = 0; k < 60; k++) out.push(fifo.shift()!)
    }
    while (fifo.length > 0) out.push(fifo.shift()!)
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i))
    expect(fifo.shift()).toBeUndefined()
  })
})
