import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import { Problem } from '../src/api'
import { now } from '../src/format'
import { locale } from '../src/i18n'
import { me } from '../src/session'
import { desk, type InHand, type Ringing } from '../src/stores/desk'
import ConversationList from '../src/components/ConversationList.vue'
import FieldError from '../src/components/FieldError.vue'
import OfferCard from '../src/components/OfferCard.vue'
import StatusSwitcher from '../src/components/StatusSwitcher.vue'
import type { Contact, Conversation } from '../src/types'

const contact: Contact = {
  id: 3, name: 'Anna Petrova', tier: 'vip', company_id: null, time_zone: 'Europe/Moscow', responsible_operator_id: null,
  identities: [], created_at: '', updated_at: '',
}
const conversation = (id: number, status: Conversation['status'] = 'assigned'): Conversation => ({
  id, contact_id: 3, line_id: 1, channel_id: 1, status, assignee_id: 5, opened_at: '', closed_at: null,
  last_message_at: new Date().toISOString(), source: {},
})

beforeEach(() => {
  now.value = Date.now()
  locale.value = 'en'
  me.value = { id: 5, login: 'olga', name: 'Olga', role: 'operator', active: true, email: null, skills: {}, capacity: {}, max_total: 5, status: 'available', missed_offers: 0 }
  desk.lines = { 1: { id: 1, name: 'Sales', time_zone: 'UTC', create_lead_for_new_contact: true, reopen_window_seconds: 0, active: true, operator_ids: [5], routing: { service_level_s: 60 } } }
  desk.channels = { 1: { id: 1, kind: 'telegram', name: 'Bot', line_id: 1, active: true, settings: {} } }
  desk.offers = []
  desk.open = []
})
afterEach(() => vi.unstubAllGlobals())

describe('OfferCard', () => {
  it('shows who writes, what, and the seconds left; Accept posts the accept', async () => {
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 })
    const fetch = vi.fn(async (url: string) => {
      if (url.endsWith('/accept')) return new Response(null, { status: 204 })
      if (url.includes('/messages') || url.includes('/notes')) return json([])
      if (url.includes('/timeline')) return json({ items: [], next_before_id: null })
      return json(url.includes('/contacts/') ? contact : conversation(42, 'offered'))
    })
    vi.stubGlobal('fetch', fetch)
    const offer: Ringing = {
      conversation_id: 42, line_id: 1, deadline: new Date(now.value + 30_000).toISOString(), since: now.value,
      conversation: conversation(42, 'offered'), contact, preview: 'Where is my order?',
    }
    desk.offers = [offer]
    const card = mount(OfferCard, { props: { offer, first: true } })
    expect(card.text()).toContain('Anna Petrova')
    expect(card.text()).toContain('VIP')
    expect(card.text()).toContain('Where is my order?')
    expect(card.find('.deadline').text()).toBe('30 s')
    await card.find('[data-test=accept]').trigger('click')
    await vi.waitFor(() => expect(desk.notes[42]).toEqual([])) // accepted, opened, its notes read
    expect(desk.activeId).toBe(42)
    expect(fetch).toHaveBeenCalledWith('/api/v1/conversations/42/accept', expect.objectContaining({ method: 'POST' }))
    expect(desk.offers).toEqual([])
    expect(desk.open.map((c) => [c.conversation.id, c.conversation.status])).toEqual([[42, 'assigned']])
  })
})

describe('ConversationList', () => {
  it('colours each wait against the line target and counts unread messages', async () => {
    const entry = (id: number, waitedS: number | null, unread: number): InHand => ({
      conversation: conversation(id), contact, unread, preview: 'hi',
      waitingSince: waitedS === null ? null : Date.now() - waitedS * 1000,
    })
    desk.open = [entry(1, 10, 0), entry(2, 40, 3), entry(3, 90, 0), entry(4, null, 0)]
    const list = mount(ConversationList)
    await nextTick()
    const waits = list.findAll('[data-test=wait]').map((w) => w.classes().find((c) => c.startsWith('sla-')))
    expect(waits).toEqual(['sla-ok', 'sla-warn', 'sla-late'])
    expect(list.findAll('[data-test=unread]').map((b) => b.text())).toEqual(['3'])
  })
})

describe('FieldError', () => {
  it('shows the problem next to its own field only', () => {
    const problem = new Problem(422, { detail: 'routing.limits.max_wait_s: must be a number of seconds', field: 'routing.limits.max_wait_s' })
    expect(mount(FieldError, { props: { problem, field: 'routing.limits.max_wait_s' } }).text()).toBe('must be a number of seconds')
    expect(mount(FieldError, { props: { problem, field: 'routing.mode' } }).text()).toBe('')
  })
})

describe('StatusSwitcher', () => {
  it('offers the built-in statuses, break reasons and the custom ones from the API', async () => {
    desk.status = 'available'
    desk.statuses = { available: 'routed', break: 'out', after_work: 'out', offline: 'out', 'back office': 'last' }
    const switcher = mount(StatusSwitcher)
    expect(switcher.find('[data-test=status-label]').text()).toBe('Available')
    await switcher.find('.status-button').trigger('click')
    await switcher.findAll('[role=menuitem]')[1]!.trigger('click')
    const items = switcher.findAll('[role=menuitem]').map((i) => i.text())
    expect(items.some((t) => t.startsWith('lunch'))).toBe(true)
    expect(items.some((t) => t.includes('back office') && t.includes('routed last'))).toBe(true)
  })
})
