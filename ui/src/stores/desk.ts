// The operator's desk: status, ringing offers, the conversations in hand, their messages and notes.
// Everything arrives over the websocket; the API is read once at start and after a reconnect.

import { reactive } from 'vue'
import { Problem, get, post, put, query } from '../api'
import { chime, notify } from '../alerts'
import { t } from '../i18n'
import { locale } from '../i18n'
import { live } from '../live'
import { preload, forget } from '../plugins/registry'
import { me } from '../session'
import { CUSTOMER_TYPING_SHOWN_MS } from '../typing'
import { clock } from '../format'
import type {
  Canned,
  Channel,
  Contact,
  Conversation,
  Line,
  LiveEvent,
  Message,
  Note,
  Offer,
  Presence,
  User,
} from '../types'

export interface Ringing extends Offer {
  since: number
  conversation: Conversation | null
  contact: Contact | null
  preview: string
}

export interface InHand {
  conversation: Conversation
  contact: Contact | null
  unread: number
  waitingSince: number | null // the customer's unanswered message, ms
  preview: string
}

export const desk = reactive({
  started: false,
  status: 'offline',
  reason: '',
  since: Date.now(),
  wrapUpEnds: null as number | null,
  statuses: {} as Record<string, string>,
  offers: [] as Ringing[],
  open: [] as InHand[],
  activeId: null as number | null,
  messages: {} as Record<number, Message[]>,
  complete: {} as Record<number, boolean>, // every older message is loaded
  notes: {} as Record<number, Note[]>,
  lines: {} as Record<number, Line>,
  channels: {} as Record<number, Channel>,
  people: {} as Record<number, User>,
  canned: [] as Canned[],
  connected: false,
  notice: '' as string,
  lastClosedLine: null as number | null,
  typing: {} as Record<number, number>, // conversation id -> until when the customer shows as typing, ms
})

const PAGE = 200
const HEAD = 20 // messages per conversation warmed in the background: a screenful; older ones load on scroll
const FIRST_HEADS = 10 // the top of the list comes first, in a small request; then the rest
const HEADS_PER_REQUEST = 50

interface Head {
  conversation: Conversation
  contact: Contact | null // null when the contact was merged away: GET /contacts/{id} follows the merge
  messages: Message[] // newest first
  notes: Note[]
  complete: boolean
}
const pluginContext = { get: <T>(path: string) => get<T>(path), get locale() { return locale.value } }
let unsubscribe: (() => void)[] = []
let poller: number | undefined
const OFFER_POLL_MS = 5000

function mine(ids: unknown): boolean {
  return Array.isArray(ids) && me.value !== null && ids.includes(me.value.id)
}

export function held(id: number): InHand | undefined {
  return desk.open.find((c) => c.conversation.id === id)
}

export function say(text: string): void {
  desk.notice = text
  window.setTimeout(() => desk.notice === text && (desk.notice = ''), 4000)
}

export async function startDesk(): Promise<void> {
  if (desk.started || !me.value) return
  desk.started = true
  desk.status = me.value.status
  unsubscribe = [
    live.on('OfferMade', onOfferMade),
    live.on('OffersWithdrawn', (e) => mine(e.data.operator_ids) && dropOffer(e.data.conversation_id)),
    live.on('OfferAccepted', (e) => e.data.operator_id === me.value?.id && dropOffer(e.data.conversation_id)),
    live.on('ConversationAssigned', onAssigned),
    live.on('MessageReceived', onMessage),
    live.on('ConversationClosed', (e) => e.data.operator_id === me.value?.id && release(e.data.conversation_id)),
    live.on('ConversationTransferred', (e) => e.data.from_operator_id === me.value?.id && release(e.data.conversation_id)),
    live.on('OperatorStatusChanged', onStatus),
    live.on('NoteAdded', (e) => void refreshNotes(e.data.conversation_id)),
    live.on('MessageStatusChanged', onDelivery),
    live.on('VisitorTyping', onCustomerTyping),
    live.on('ready', () => void resync()),
  ]
  live.onState = (connected) => (desk.connected = connected)
  live.start()
  // a safety net under the websocket: while available, ask what rings every few seconds
  poller = window.setInterval(() => {
    if (desk.status === 'available' && !document.hidden) void refreshOffers()
  }, OFFER_POLL_MS)
  // the conversations in hand do not wait for the catalogs: their heads go out one round trip sooner
  await Promise.all([loadCatalogs(), resync()])
  warmFormatters()
}

/** The first date formatted in a locale loads its data (tens of ms): done while idle, not on the first open. */
function warmFormatters(): void {
  const idle = window.requestIdleCallback ?? ((run: () => void) => window.setTimeout(run, 200))
  idle(() => {
    const now = Date.now()
    clock(new Date(now).toISOString(), locale.value)
    clock(new Date(now - 2 * 86_400_000).toISOString(), locale.value)
  })
}

async function loadCatalogs(): Promise<void> {
  const [lines, channels, statuses, canned, people] = await Promise.all([
    get<Line[]>('/lines'),
    get<Channel[]>('/channels'),
    get<Record<string, string>>('/statuses'),
    get<Canned[]>('/canned-responses'),
    get<User[]>('/operators'),
  ])
  lines.forEach((l) => (desk.lines[l.id] = l))
  channels.forEach((c) => (desk.channels[c.id] = c))
  people.forEach((p) => (desk.people[p.id] = p))
  desk.statuses = statuses
  desk.canned = canned
}

export function stopDesk(): void {
  unsubscribe.forEach((off) => off())
  window.clearInterval(poller)
  desk.started = false
}

async function refreshOffers(): Promise<void> {
  const asked = Date.now()
  const offers = await get<Offer[]>('/me/offers').catch(() => null)
  if (!offers) return
  // an offer that arrived over the websocket while this answer was on its way stays
  desk.offers = desk.offers.filter((o) => o.since >= asked || offers.some((x) => x.conversation_id === o.conversation_id))
  for (const offer of offers) ring(offer, true)
}

async function resync(): Promise<void> {
  if (!me.value) return
  const [offers, conversations] = await Promise.all([
    get<Offer[]>('/me/offers'),
    get<Conversation[]>('/conversations' + query({ assignee_id: me.value.id, limit: 200 })),
  ])
  for (const c of conversations.filter((c) => c.status !== 'closed').reverse()) adopt(c, held(c.id)?.contact ?? null)
  const open = new Set(conversations.filter((c) => c.status !== 'closed').map((c) => c.id))
  desk.open = desk.open.filter((c) => open.has(c.conversation.id))
  desk.offers = desk.offers.filter((o) => offers.some((x) => x.conversation_id === o.conversation_id))
  for (const offer of offers) ring(offer, false)
  void warm()
}

const warming = new Map<number, Promise<void>>() // conversation id -> the heads request bringing it

function cold(id: number): boolean {
  return (!desk.messages[id] || !desk.notes[id] || !held(id)?.contact) && !warming.has(id)
}

/**
 * Fetch every conversation in hand (card, newest messages, notes) in the background, a few requests in all,
 * the top of the list first, so that switching to any of them is only a re-render.
 */
async function warm(): Promise<void> {
  const ids = desk.open.map((c) => c.conversation.id).filter(cold) // each once: a failed or left-out one is not retried
  for (let start = 0, size = FIRST_HEADS; start < ids.length; start += size, size = HEADS_PER_REQUEST) {
    const chunk = ids.slice(start, start + size).filter(cold) // less what a click fetched meanwhile
    if (chunk.length) await warmHeads(chunk)
  }
}

/** One request for several conversations' heads; a switch to one of them meanwhile waits for it, not a second fetch. */
function warmHeads(ids: number[]): Promise<void> {
  const pending: Promise<void> = fetchHeads(ids)
    .then(() => undefined, () => undefined)
    .finally(() => ids.forEach((id) => warming.get(id) === pending && warming.delete(id)))
  for (const id of ids) warming.set(id, pending)
  return pending
}

async function fetchHeads(ids: number[]): Promise<Head[]> {
  const heads = await get<Head[]>(`/desk/heads${query({ ids: ids.join(','), limit: HEAD })}`)
  for (const head of heads) keep(head)
  return heads
}

/** A head into the desk; whatever arrived meanwhile (a live message, a note, a card edit) is kept. */
function keep(head: Head): void {
  const id = head.conversation.id
  if (desk.messages[id]) merge(id, head.messages)
  else {
    desk.messages[id] = [...head.messages].reverse()
    desk.complete[id] = head.complete
  }
  desk.notes[id] ??= head.notes
  const entry = held(id)
  if (!entry || entry.contact) return
  if (head.contact) entry.contact = head.contact
  else void get<Contact>(`/contacts/${head.conversation.contact_id}`).then((c) => (entry.contact = c))
}

/** Hovering or focusing a conversation in the list: fetch it now if the background has not yet. */
export function prefetchConversation(conversationId: number): void {
  if (cold(conversationId)) void warmHeads([conversationId])
}

function adopt(conversation: Conversation, contact?: Contact | null): InHand {
  let entry = held(conversation.id)
  if (entry) {
    entry.conversation = conversation
    return entry
  }
  entry = reactive({
    conversation,
    contact: null,
    unread: 0,
    waitingSince: conversation.status === 'assigned' ? Date.parse(conversation.last_message_at) : null,
    preview: '',
  }) as InHand
  desk.open.push(entry)
  // the heads bring the card of conversations found at start; one assigned later brings its own
  if (contact !== undefined) entry.contact = contact
  else if (!warming.has(conversation.id)) void get<Contact>(`/contacts/${conversation.contact_id}`).then((c) => (entry!.contact = c))
  return entry
}

function ring(offer: Offer, loud: boolean): void {
  if (desk.offers.some((o) => o.conversation_id === offer.conversation_id)) return
  const ringing = reactive({ ...offer, since: Date.now(), conversation: null, contact: null, preview: '' }) as Ringing
  desk.offers.push(ringing)
  if (loud) {
    // after the card is on screen: the first chime starts the audio device, which takes a while
    window.setTimeout(() => {
      chime()
      notify(t('offer.notification'), desk.lines[offer.line_id]?.name ?? '', () => void accept(offer.conversation_id))
    }, 0)
  }
  void prefetch(ringing).catch(() => undefined)
}

/** While the offer rings, in one request: the conversation, the customer's card, the last messages, the notes;
 * then the plug-ins' data. */
async function prefetch(ringing: Ringing): Promise<void> {
  const [head] = await fetchHeads([ringing.conversation_id])
  if (!head) return
  ringing.conversation = head.conversation
  const contact = head.contact ?? (await get<Contact>(`/contacts/${head.conversation.contact_id}`))
  ringing.contact = contact
  ringing.preview = head.messages.find((m) => m.direction === 'in')?.text ?? ''
  preload(contact, pluginContext)
}

function onOfferMade(event: LiveEvent): void {
  if (!mine(event.data.operator_ids)) return
  ring({ conversation_id: event.data.conversation_id, line_id: event.data.line_id, deadline: event.data.deadline }, true)
}

function dropOffer(conversationId: number): void {
  desk.offers = desk.offers.filter((o) => o.conversation_id !== conversationId)
}

export async function accept(conversationId?: number): Promise<void> {
  const offer = conversationId ? desk.offers.find((o) => o.conversation_id === conversationId) : desk.offers[0]
  if (!offer) return
  try {
    await post(`/conversations/${offer.conversation_id}/accept`)
  } catch (error) {
    dropOffer(offer.conversation_id)
    say(error instanceof Problem && error.status === 409 ? t('offer.taken') : String(error))
    return
  }
  dropOffer(offer.conversation_id)
  const entry = adopt(offer.conversation ?? (await get<Conversation>(`/conversations/${offer.conversation_id}`)))
  entry.conversation.status = 'assigned'
  entry.conversation.assignee_id = me.value?.id ?? null
  if (offer.contact) entry.contact = offer.contact
  entry.waitingSince ??= offer.since
  activate(offer.conversation_id)
}

export async function decline(conversationId?: number): Promise<void> {
  const offer = conversationId ? desk.offers.find((o) => o.conversation_id === conversationId) : desk.offers[0]
  if (!offer) return
  dropOffer(offer.conversation_id)
  await post(`/conversations/${offer.conversation_id}/decline`).catch(() => undefined)
}

function onAssigned(event: LiveEvent): void {
  const { conversation_id: id, operator_id: to, previous_operator_id: from } = event.data
  if (from === me.value?.id && to !== me.value?.id) return release(id)
  if (to !== me.value?.id) return
  dropOffer(id)
  if (!held(id)) void adoptById(id).catch(() => undefined)
}

/** A conversation that became the operator's: its head in one request, the card included. */
async function adoptById(id: number): Promise<void> {
  const [head] = await fetchHeads([id])
  if (head && !held(id)) adopt(head.conversation, head.contact)
  if (head) keep(head)
}

const typingTimers = new Map<number, number>()

/** The customer is typing in the web chat: show it until the notices stop or their message lands. */
export function onCustomerTyping(event: LiveEvent): void {
  const id = Number(event.data.conversation_id)
  if (!held(id)) return
  desk.typing[id] = Date.now() + CUSTOMER_TYPING_SHOWN_MS
  window.clearTimeout(typingTimers.get(id))
  typingTimers.set(id, window.setTimeout(() => stopTyping(id), CUSTOMER_TYPING_SHOWN_MS))
}

function stopTyping(id: number): void {
  window.clearTimeout(typingTimers.get(id))
  typingTimers.delete(id)
  delete desk.typing[id]
}

/** Tell the web chat visitor the operator is typing; a lost notice is not worth an error. */
export function sendTyping(conversationId: number): void {
  void post(`/conversations/${conversationId}/typing`).catch(() => undefined)
}

async function onMessage(event: LiveEvent): Promise<void> {
  const { conversation_id: id, assignee_id } = event.data
  if (assignee_id !== me.value?.id) return
  stopTyping(id)
  const entry = held(id) ?? adopt(await get<Conversation>(`/conversations/${id}`))
  entry.conversation.status = 'assigned'
  entry.waitingSince = Date.parse(event.occurred_at)
  if (desk.activeId !== id || document.hidden) entry.unread += 1
  const fresh = await get<Message[]>(`/conversations/${id}/messages?limit=20`)
  merge(id, fresh)
  entry.preview = fresh.find((m) => m.direction === 'in')?.text ?? entry.preview
}

function merge(conversationId: number, fresh: Message[]): void {
  const known = desk.messages[conversationId]
  if (!known) return
  const ids = new Set(known.map((m) => m.id))
  const added = fresh.filter((m) => !ids.has(m.id)).sort((a, b) => a.id - b.id)
  if (added.length) desk.messages[conversationId] = [...known, ...added]
}

function onDelivery(event: LiveEvent): void {
  const list = desk.messages[event.data.conversation_id]
  const message = list?.find((m) => m.id === event.data.message_id)
  if (message) message.delivery_status = event.data.status
}

function onStatus(event: LiveEvent): void {
  if (event.data.operator_id !== me.value?.id) return
  applyStatus(event.data.status, event.data.reason, Date.parse(event.occurred_at))
}

function applyStatus(status: string, reason: string, since: number): void {
  desk.status = status
  desk.reason = reason
  desk.since = since
  const line = desk.lastClosedLine !== null ? desk.lines[desk.lastClosedLine] : undefined
  const wrap = Number(line?.routing?.wrap_up_s ?? 0)
  desk.wrapUpEnds = status === 'after_work' && wrap > 0 ? since + wrap * 1000 : null
}

export async function setStatus(status: string, reason = ''): Promise<void> {
  const presence = await put<Presence>('/me/status', { status, reason })
  applyStatus(presence.status, presence.reason, Date.now())
}

function release(conversationId: number): void {
  const index = desk.open.findIndex((c) => c.conversation.id === conversationId)
  if (index < 0) return
  const [gone] = desk.open.splice(index, 1)
  if (gone) forget(gone.conversation.contact_id)
  if (desk.activeId === conversationId) desk.activeId = desk.open[Math.min(index, desk.open.length - 1)]?.conversation.id ?? null
}

export function activate(conversationId: number | null): void {
  desk.activeId = conversationId
  if (conversationId === null) return
  const entry = held(conversationId)
  if (entry) entry.unread = 0
  void loadConversation(conversationId)
}

export async function loadConversation(conversationId: number): Promise<void> {
  if (!desk.messages[conversationId] || !desk.notes[conversationId]) {
    await (warming.get(conversationId) ?? warmHeads([conversationId]))
  }
  // what the heads left out (a conversation this operator only reads as a colleague's) the old way
  if (!desk.messages[conversationId]) {
    const messages = await get<Message[]>(`/conversations/${conversationId}/messages?limit=${PAGE}`)
    desk.messages[conversationId] = messages.reverse()
    desk.complete[conversationId] = messages.length < PAGE
  }
  if (!desk.notes[conversationId]) await refreshNotes(conversationId, true)
}

export async function loadOlder(conversationId: number): Promise<number> {
  const known = desk.messages[conversationId]
  if (!known?.length || desk.complete[conversationId]) return 0
  const older = await get<Message[]>(`/conversations/${conversationId}/messages?limit=${PAGE}&before_id=${known[0]!.id}`)
  desk.complete[conversationId] = older.length < PAGE
  desk.messages[conversationId] = [...older.reverse(), ...(desk.messages[conversationId] ?? [])]
  return older.length
}

async function refreshNotes(conversationId: number, force = false): Promise<void> {
  if (!force && !desk.notes[conversationId]) return
  desk.notes[conversationId] = await get<Note[]>(`/conversations/${conversationId}/notes`)
}

/** Where a reply goes besides its text: uploaded files by id, and another channel of the customer. */
export interface ReplyExtras {
  upload_ids?: number[]
  channel_id?: number | null
}

/**
 * Send a reply; returns the stored message. Sent in another channel, it lives in that channel's
 * conversation (which the desk adopts from ConversationAssigned); this conversation gets a note.
 */
export async function reply(
  conversationId: number,
  text: string,
  attachments: Message['attachments'] = [],
  extras: ReplyExtras = {},
): Promise<Message> {
  const message = await post<Message>(`/conversations/${conversationId}/replies`, { text, attachments, ...extras })
  const target = message.conversation_id
  if (target !== conversationId) {
    if (desk.messages[target]) desk.messages[target] = [...desk.messages[target]!, message]
    await refreshNotes(conversationId, true)
    return message
  }
  desk.messages[conversationId] = [...(desk.messages[conversationId] ?? []), message]
  const entry = held(conversationId)
  if (entry) {
    entry.waitingSince = null
    entry.conversation.status = 'waiting'
  }
  return message
}

export async function addNote(conversationId: number, text: string): Promise<void> {
  const note = await post<Note>(`/conversations/${conversationId}/notes`, { text })
  const notes = desk.notes[conversationId] ?? []
  if (!notes.some((n) => n.id === note.id)) desk.notes[conversationId] = [...notes, note]
}

export async function closeConversation(conversationId: number): Promise<void> {
  const entry = held(conversationId)
  const previous = desk.lastClosedLine
  desk.lastClosedLine = entry?.conversation.line_id ?? null // the wrap-up event may come before the answer
  try {
    await post(`/conversations/${conversationId}/close`)
  } catch (error) {
    desk.lastClosedLine = previous
    throw error
  }
  release(conversationId)
}

export function step(delta: number): void {
  if (!desk.open.length) return
  const index = desk.open.findIndex((c) => c.conversation.id === desk.activeId)
  const next = (index + delta + desk.open.length) % desk.open.length
  activate(desk.open[next]!.conversation.id)
}

// The desk's state, readable from the console and by bench/ui.py (how many messages are loaded).
if (typeof window !== 'undefined') (window as unknown as { __switchboardDesk: typeof desk }).__switchboardDesk = desk
