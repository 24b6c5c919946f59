import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { me } from '../src/session'
import { activate, desk, loadConversation, startDesk, stopDesk } from '../src/stores/desk'
import type { Contact, Conversation, Message } from '../src/types'

const conversation = (id: number): Conversation => ({
  id, contact_id: 100 + id, line_id: 1, channel_id: 1, status: 'assigned', assignee_id: 5, opened_at: '', closed_at: null,
  last_message_at: new Date().toISOString(), source: {},
})
const contact = (id: number): Contact => ({
  id, name: `Customer ${id}`, tier: 'regular', company_id: null, time_zone: null, responsible_operator_id: null,
  identities: [], created_at: '', updated_at: '',
})
const message = (id: number, conversationId: number): Message => ({
  id, conversation_id: conversationId, channel_id: 1, direction: 'in', author_kind: 'contact', author_id: null,
  text: `Question ${id}`, attachments: [], external_id: null, delivery_status: 'received', error: null, created_at: '',
})
const head = (id: number) => ({
  conversation: conversation(id), contact: contact(100 + id), notes: [], complete: true,
  messages: [message(id * 10 + 2, id), message(id * 10 + 1, id)], // newest first, as the API sends them
})

/** The API as the desk sees it: olga holds ``held`` conversations; every request is recorded. */
function api(held: number[], headsAnswer?: Promise<void>, headsStatus = 200) {
  const asked: string[] = []
  const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 })
  const fetch = vi.fn(async (url: string) => {
    const path = url.replace('/api/v1', '')
    asked.push(path)
    if (path.startsWith('/desk/heads')) {
      await headsAnswer
      if (headsStatus !== 200) return new Response(JSON.stringify({ detail: 'down' }), { status: headsStatus })
      const ids = new URLSearchParams(path.split('?')[1]).get('ids')!.split(',').map(Number)
      return json(ids.filter((id) => held.includes(id)).map(head))
    }
    if (path.startsWith('/conversations?')) return json(held.map(conversation).reverse()) // newest first
    if (path === '/statuses') return json({})
    if (path.startsWith('/conversations/') && path.endsWith('/messages?limit=200')) return json([])
    return json([])
  })
  vi.stubGlobal('fetch', fetch)
  return asked
}

class QuietSocket {
  close(): void {}
}

beforeEach(() => {
  vi.stubGlobal('WebSocket', QuietSocket)
  me.value = { id: 5, login: 'olga', name: 'Olga', role: 'operator', active: true, email: null, skills: {}, capacity: {}, max_total: 50, status: 'offline', missed_offers: 0 }
  Object.assign(desk, { open: [], offers: [], messages: {}, notes: {}, complete: {}, activeId: null })
})
afterEach(() => {
  stopDesk()
  vi.unstubAllGlobals()
})

describe('the desk warms what the operator holds', () => {
  it('fetches every open conversation in two heads requests, the top of the list first, and nothing one by one', async () => {
    // given olga holds 12 conversations
    const held = Array.from({ length: 12 }, (_, i) => i + 1)
    const asked = api(held)
    // when her desk starts
    await startDesk()
    await vi.waitFor(() => expect(Object.keys(desk.messages)).toHaveLength(12))
    // then the first ten came in one request and the other two in a second; no card, message or note one by one
    expect(asked.filter((p) => p.startsWith('/desk/heads'))).toEqual([
      '/desk/heads?ids=1%2C2%2C3%2C4%2C5%2C6%2C7%2C8%2C9%2C10&limit=20',
      '/desk/heads?ids=11%2C12&limit=20',
    ])
    expect(asked.filter((p) => /^\/contacts\/|\/messages|\/notes/.test(p))).toEqual([])
    // and each conversation holds its messages oldest first, its notes and its card
    expect(desk.messages[3]!.map((m) => m.id)).toEqual([31, 32])
    expect(desk.notes[3]).toEqual([])
    expect(desk.open.map((c) => c.contact?.name)).toEqual(held.map((id) => `Customer ${100 + id}`))
    // and opening one fetches nothing more for its timeline
    const before = asked.length
    activate(7)
    await loadConversation(7)
    expect(asked.slice(before)).toEqual([])
  })

  it('a conversation opened while its head is on the way waits for that request, not a second one', async () => {
    // given the heads request is slow to answer
    let answer: () => void = () => undefined
    const asked = api([1, 2], new Promise<void>((resolve) => (answer = resolve)))
    await startDesk()
    await vi.waitFor(() => expect(asked.some((p) => p.startsWith('/desk/heads'))).toBe(true))
    // when olga opens the second conversation before it arrives
    activate(2)
    const opened = loadConversation(2)
    answer()
    await opened
    // then its messages are there, brought by the one heads request
    expect(desk.messages[2]!.map((m) => m.id)).toEqual([21, 22])
    expect(asked.filter((p) => p.startsWith('/desk/heads') || p.includes('/messages'))).toEqual(['/desk/heads?ids=1%2C2&limit=20'])
  })

  it('a heads request that fails is not repeated in a loop: the conversation is fetched when opened', async () => {
    // given the heads endpoint fails
    const asked = api([1, 2], undefined, 500)
    // when the desk starts and settles
    await startDesk()
    await new Promise((resolve) => setTimeout(resolve, 50))
    // then it asked once, and gave up
    expect(asked.filter((p) => p.startsWith('/desk/heads'))).toEqual(['/desk/heads?ids=1%2C2&limit=20'])
    expect(desk.messages[1]).toBeUndefined()
    // and opening one asks again, then reads it the old way
    await loadConversation(1)
    expect(asked.filter((p) => p.startsWith('/desk/heads'))).toEqual(['/desk/heads?ids=1%2C2&limit=20', '/desk/heads?ids=1&limit=20'])
    expect(desk.messages[1]).toEqual([])
    expect(asked.filter((p) => p.startsWith('/conversations/1/'))).toEqual(['/conversations/1/messages?limit=200', '/conversations/1/notes'])
  })
})
