import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import { Problem } from '../src/api'
import { locale } from '../src/i18n'
import { desk, reply } from '../src/stores/desk'
import { Tray, type Send, type Uploaded } from '../src/uploads'
import AttachmentTray from '../src/components/AttachmentTray.vue'
import ChannelSwitch from '../src/components/ChannelSwitch.vue'

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status })
const uploaded = (id: number, name: string): Uploaded => ({
  id, conversation_id: 7, name, content_type: 'image/png', size: 3, sha256: 'a'.repeat(64), url: `/api/v1/conversations/7/files/${'a'.repeat(64)}`,
})

/** A fake upload transport: the test moves progress and settles each upload by hand. */
function fakeSend() {
  const calls: { url: string; body: FormData; progress: (f: number) => void; resolve: (u: Uploaded) => void; reject: (e: unknown) => void; aborted: boolean }[] = []
  const send: Send = (url, body, progress) => {
    let resolve!: (u: Uploaded) => void
    let reject!: (e: unknown) => void
    const done = new Promise<Uploaded>((ok, fail) => ((resolve = ok), (reject = fail)))
    const call = { url, body, progress, resolve, reject, aborted: false }
    calls.push(call)
    return { done, abort: () => { call.aborted = true; reject(new Problem(0, { detail: 'cancelled' })) } }
  }
  return { send, calls }
}

beforeEach(() => {
  locale.value = 'en'
  vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: vi.fn(() => 'blob:preview'), revokeObjectURL: vi.fn() }))
})
afterEach(() => vi.unstubAllGlobals())

describe('the reply tray', () => {
  it('uploads each file at once, shows progress, sends only the ids that made it, and cancels a removed one', async () => {
    const { send, calls } = fakeSend()
    const tray = new Tray(send)
    const photo = tray.add(7, new File(['png'], 'map.png', { type: 'image/png' }))
    const page = tray.add(7, new File(['<html>'], 'page.html', { type: 'text/html' }))
    const bill = tray.add(7, new File(['%PDF-'], 'bill.pdf', { type: 'application/pdf' }))
    expect(calls.map((c) => [c.url, (c.body.get('file') as File).name])).toEqual([
      ['/api/v1/conversations/7/uploads', 'map.png'],
      ['/api/v1/conversations/7/uploads', 'page.html'],
      ['/api/v1/conversations/7/uploads', 'bill.pdf'],
    ])
    expect([photo.preview, page.preview]).toEqual(['blob:preview', null]) // a thumbnail for pictures only
    calls[0]!.progress(0.5)
    expect(photo.progress).toBe(0.5)
    expect(tray.busy).toBe(true)
    calls[0]!.resolve(uploaded(11, 'map.png'))
    calls[1]!.reject(new Problem(415, { detail: 'files of type text/html are not accepted here', field: 'file' }))
    await vi.waitFor(() => expect(page.error).toBe('files of type text/html are not accepted here'))
    tray.remove(bill.key)
    expect(calls[2]!.aborted).toBe(true)
    expect(tray.busy).toBe(false)
    expect(tray.ids).toEqual([11])
    expect(tray.items.map((i) => i.name)).toEqual(['map.png', 'page.html'])
  })
})

describe('AttachmentTray', () => {
  it('shows a thumbnail, the progress while uploading, the refusal, and a remove button per file', async () => {
    const { send, calls } = fakeSend()
    const tray = new Tray(send)
    tray.add(7, new File(['png'], 'map.png', { type: 'image/png' }))
    tray.add(7, new File(['x'], 'page.html', { type: 'text/html' }))
    calls[1]!.reject(new Problem(415, { detail: 'not accepted' }))
    const view = mount(AttachmentTray, { props: { items: tray.items } })
    await vi.waitFor(() => expect(view.find('[data-test=upload-error]').exists()).toBe(true))
    expect(view.findAll('[data-test=thumb]').map((i) => i.attributes('src'))).toEqual(['blob:preview'])
    expect(view.findAll('[data-test=progress]')).toHaveLength(1)
    expect(view.find('[data-test=upload-error]').text()).toBe('not accepted')
    await view.findAll('[data-test=remove-file]')[1]!.trigger('click')
    expect(view.emitted('remove')).toEqual([[tray.items[1]!.key]])
  })
})

describe('ChannelSwitch', () => {
  const channels = [
    { id: 1, kind: 'webchat', name: 'Site chat', current: true },
    { id: 4, kind: 'email', name: 'Support mailbox', current: false },
  ]

  it('lists the customer\'s channels, the conversation\'s first, and emits the other one when picked', async () => {
    const fetch = vi.fn(async () => json(channels))
    vi.stubGlobal('fetch', fetch)
    const view = mount(ChannelSwitch, { props: { conversationId: 7, modelValue: null } })
    await vi.waitFor(() => expect(view.find('select').exists()).toBe(true))
    expect(fetch).toHaveBeenCalledWith('/api/v1/conversations/7/reply-channels', expect.anything())
    expect(view.findAll('option').map((o) => o.text())).toEqual(['Site chat · Web chat (this conversation)', 'Support mailbox · Email'])
    await view.find('select').setValue('4')
    await view.find('select').setValue('1')
    expect(view.emitted('update:modelValue')!.slice(-2)).toEqual([[4], [null]])
  })

  it('offers no choice when the conversation\'s channel is the only one', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json([channels[0]])))
    const view = mount(ChannelSwitch, { props: { conversationId: 7, modelValue: null } })
    await nextTick()
    await new Promise((r) => setTimeout(r, 0))
    expect(view.find('[data-test=channel-switch]').exists()).toBe(false)
  })
})

describe('a reply with files in another channel', () => {
  it('posts the upload ids and the channel, and leaves this conversation\'s messages alone', async () => {
    desk.messages = { 7: [] }
    desk.notes = { 7: [] }
    const note = { id: 3, conversation_id: 7, author_id: 5, text: 'Replied by email (Support mailbox) in conversation #9', created_at: '' }
    const message = { id: 50, conversation_id: 9, channel_id: 4, direction: 'out', author_kind: 'operator', author_id: 5, text: 'Bill', attachments: [], external_id: null, delivery_status: 'queued', error: null, created_at: '' }
    const fetch = vi.fn(async (url: string) => (url.endsWith('/notes') ? json([note]) : json(message, 201)))
    vi.stubGlobal('fetch', fetch)
    const sent = await reply(7, 'Bill', [], { upload_ids: [11], channel_id: 4 })
    expect(sent.conversation_id).toBe(9)
    const [, init] = fetch.mock.calls[0] as unknown as [string, RequestInit]
    expect(JSON.parse(init.body as string)).toEqual({ text: 'Bill', attachments: [], upload_ids: [11], channel_id: 4 })
    expect(desk.messages[7]).toEqual([])
    expect(desk.notes[7]).toEqual([note])
  })
})
