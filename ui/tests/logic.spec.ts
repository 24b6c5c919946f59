import { describe, expect, it, vi } from 'vitest'
import { Problem } from '../src/api'
import { draftOf, hiddenCount, otherFields, parseCustom, patchValue, shownFields, unknownCustomer } from '../src/card'
import { duration, slaLevel } from '../src/format'
import { bind, chord, dispatch } from '../src/shortcuts'
import { data, registerPlugin } from '../src/plugins/registry'
import type { Contact } from '../src/types'

const contact = (over: Partial<Contact> = {}): Contact => ({
  id: 7, name: 'Anna Petrova', tier: 'regular', company_id: null, time_zone: null, responsible_operator_id: null,
  identities: [{ kind: 'phone', value: '+7916•••••67' }], created_at: '', updated_at: '', ...over,
})

describe('wait colours against the line target', () => {
  it('is green until half the target, amber until it, red after', () => {
    expect([slaLevel(0, 60), slaLevel(29, 60), slaLevel(30, 60), slaLevel(59, 60), slaLevel(60, 60)]).toEqual(['ok', 'ok', 'warn', 'warn', 'late'])
  })
  it('shows durations as m:ss and h:mm:ss', () => {
    expect([duration(5), duration(65), duration(3725), duration(null)]).toEqual(['0:05', '1:05', '1:02:05', '—'])
  })
})

describe('problem+json', () => {
  it('finds the message of one field, from errors or from the top-level field', () => {
    const problem = new Problem(422, { detail: 'routing.forwarding_timeout_s: must be between 5 seconds and 24 hours', field: 'routing.forwarding_timeout_s' })
    expect(problem.about('routing.forwarding_timeout_s')).toBe('must be between 5 seconds and 24 hours')
    expect(problem.about('name')).toBeNull()
    const many = new Problem(422, { detail: 'x', field: 'name', errors: [{ field: 'email', message: 'bad email' }] })
    expect(many.about('email')).toBe('bad email')
  })
})

describe('keyboard', () => {
  it('names chords by physical key, so a Russian layout works the same', () => {
    expect(chord(new KeyboardEvent('keydown', { key: 'ф', code: 'KeyA', altKey: true }))).toBe('Alt+A')
    expect(chord(new KeyboardEvent('keydown', { key: '?', code: 'Slash', shiftKey: true }))).toBe('?')
  })
  it('runs plain-key shortcuts only outside text fields, modifier ones everywhere they allow', () => {
    const plain = vi.fn()
    const typed = vi.fn()
    const off = bind([
      { id: 't-plain', keys: 'A', label: '', group: '', run: plain },
      { id: 't-alt', keys: 'Alt+C', label: '', group: '', run: typed, whileTyping: true },
    ])
    const input = document.createElement('textarea')
    document.body.append(input)
    const press = (init: KeyboardEventInit) => {
      const event = new KeyboardEvent('keydown', { bubbles: true, ...init })
      Object.defineProperty(event, 'target', { value: input })
      return dispatch(event)
    }
    expect(press({ key: 'a', code: 'KeyA' })).toBe(false)
    expect(press({ key: 'c', code: 'KeyC', altKey: true })).toBe(true)
    expect(dispatch(new KeyboardEvent('keydown', { key: 'a', code: 'KeyA' }))).toBe(true)
    expect([plain.mock.calls.length, typed.mock.calls.length]).toEqual([1, 1])
    off()
  })
})

describe('the customer card', () => {
  it('shows the fields that exist and every unknown scalar the API adds', () => {
    const common = ['last_name', 'first_name', 'birth_date', 'company_name', 'city', 'time_zone', 'preferred_channel',
      'processing_consent', 'marketing_consent', 'tags', 'responsible_operator_id', 'custom_fields']
    expect(shownFields(contact()).map((f) => f.key)).toEqual(common)
    expect(hiddenCount(contact())).toBe(6)
    expect(shownFields(contact({ external_id: 'crm-1', address: '' })).map((f) => f.key)).toContain('external_id')
    expect(shownFields(contact({ address: '' })).map((f) => f.key)).not.toContain('address')
    expect(shownFields(contact(), true)).toHaveLength(common.length + 6)
    expect(shownFields(contact({ segment: 'b2b' })).map((f) => f.key)).toContain('segment')
    expect(otherFields(contact({ loyalty_level: 'gold', nested: { a: 1 } }))).toEqual([['loyalty_level', 'gold']])
  })
  it('turns the inline editor\'s text into the PATCH value, and back', () => {
    expect(parseCustom('size=L, loyalty=3; vip=true, old=, =x, junk')).toEqual({ size: 'L', loyalty: 3, vip: true, old: null })
    expect(patchValue('tags', ' b2b, , opt ')).toEqual(['b2b', 'opt'])
    expect(patchValue('operator', '')).toBeNull()
    expect(patchValue('text', '  ')).toBeNull()
    expect(draftOf('custom', { size: 'L', loyalty: 3 })).toBe('size=L, loyalty=3')
    expect(draftOf('tags', ['a', 'b'])).toBe('a, b')
  })
  it('calls a customer known only by a phone or email unknown', () => {
    expect(unknownCustomer(contact({ name: '+7916•••••67' }))).toBe(true)
    expect(unknownCustomer(contact({ name: 'a•••@mail.example' }))).toBe(true)
    expect(unknownCustomer(contact())).toBe(false)
  })
})

describe('plug-ins', () => {
  it('loads once per contact, so data fetched while the offer rang is reused', async () => {
    const load = vi.fn(async (c: Contact) => ({ orders: c.id }))
    registerPlugin('test-plugin', { title: 'Test', load, mount: () => undefined })
    const context = { get: async <T,>() => undefined as T, locale: 'en' }
    const first = await data('test-plugin', contact(), context)
    const second = await data('test-plugin', contact(), context)
    expect(first).toEqual({ orders: 7 })
    expect(second).toBe(first)
    expect(load).toHaveBeenCalledTimes(1)
  })
})

describe('typing notices', () => {
  it('lets one notice through per period, and again after a reset (another conversation)', async () => {
    const { Throttle } = await import('../src/typing')
    const throttle = new Throttle(2000)
    expect([0, 500, 1999, 2000, 2100, 4000].map((now) => throttle.ready(now))).toEqual([true, false, false, true, false, true])
    throttle.reset()
    expect(throttle.ready(4001)).toBe(true)
  })
})

describe('the channels screen', () => {
  it('sends only changed secrets: new values and removals of stored ones', async () => {
    const { secretEdits, secretsPatch } = await import('../src/channels')
    const edits = secretEdits(['bot_token', 'webhook_secret', 'app_secret'])
    expect(secretsPatch(edits)).toBeUndefined()
    edits[0]!.value = '1:new'
    edits[1]!.remove = true
    edits.push({ name: ' api_key ', value: 'k', remove: false, stored: false }, { name: 'x', value: '', remove: true, stored: false })
    expect(secretsPatch(edits)).toEqual({ bot_token: '1:new', webhook_secret: null, api_key: 'k' })
  })
  it('reads health as failing, working or not tested yet', async () => {
    const { healthState } = await import('../src/channels')
    const base = { last_success_at: null, last_error_at: null, last_error: null, failing: false }
    expect([healthState(undefined), healthState(base), healthState({ ...base, last_success_at: 'x' }), healthState({ ...base, failing: true })])
      .toEqual(['untested', 'untested', 'ok', 'failing'])
  })
})
