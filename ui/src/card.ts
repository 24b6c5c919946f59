// The customer card's fields as data: adding a field the API grows is one entry here (docs/contacts.md).

import type { Contact } from './types'

export type FieldKind = 'text' | 'date' | 'zone' | 'operator' | 'channel' | 'tags' | 'consent' | 'custom' | 'readonly'

export interface CardField {
  key: string // the contact's field in the API
  label: string // an i18n key
  kind: FieldKind
  editable: boolean // PATCH /contacts/{id} takes it
  onlyWhenPresent?: boolean // fields another part of the API may not have yet
  rare?: boolean // hidden while empty, unless the operator asks for every field
}

export const CHANNEL_KINDS = ['phone', 'email', 'sms', 'whatsapp', 'telegram', 'vk', 'webchat', 'instagram', 'facebook', 'yandex', 'fax', 'api']

export const CARD_FIELDS: CardField[] = [
  { key: 'last_name', label: 'card.lastName', kind: 'text', editable: true },
  { key: 'first_name', label: 'card.firstName', kind: 'text', editable: true },
  { key: 'middle_name', label: 'card.middleName', kind: 'text', editable: true, rare: true },
  { key: 'birth_date', label: 'card.birthDate', kind: 'date', editable: true },
  { key: 'company_name', label: 'card.company', kind: 'text', editable: true },
  { key: 'city', label: 'card.city', kind: 'text', editable: true },
  { key: 'address', label: 'card.address', kind: 'text', editable: true, rare: true },
  { key: 'region', label: 'card.region', kind: 'text', editable: true, rare: true },
  { key: 'postal_code', label: 'card.postalCode', kind: 'text', editable: true, rare: true },
  { key: 'country', label: 'card.country', kind: 'text', editable: true, rare: true },
  { key: 'time_zone', label: 'card.timeZone', kind: 'zone', editable: true },
  { key: 'preferred_channel', label: 'card.preferredChannel', kind: 'channel', editable: true },
  { key: 'processing_consent', label: 'card.processingConsent', kind: 'consent', editable: true },
  { key: 'marketing_consent', label: 'card.marketingConsent', kind: 'consent', editable: true },
  { key: 'tags', label: 'card.tags', kind: 'tags', editable: true },
  { key: 'segment', label: 'card.segment', kind: 'text', editable: true, onlyWhenPresent: true },
  { key: 'responsible_operator_id', label: 'card.responsible', kind: 'operator', editable: true },
  { key: 'external_id', label: 'card.externalId', kind: 'text', editable: true, rare: true },
  { key: 'custom_fields', label: 'card.customFields', kind: 'custom', editable: true },
]

export const KNOWN = new Set(['id', 'name', 'tier', 'identities', 'created_at', 'updated_at', 'company_id', ...CARD_FIELDS.map((f) => f.key)])

function empty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true
  if (Array.isArray(value)) return value.length === 0
  return typeof value === 'object' && Object.keys(value).length === 0
}

/** The fields to show: every common one, the rare ones only when filled (or when all are asked for). */
export function shownFields(contact: Contact, all = false): CardField[] {
  return CARD_FIELDS.filter((f) => {
    if (f.onlyWhenPresent && contact[f.key] === undefined) return false
    return all || !f.rare || !empty(contact[f.key])
  })
}

/** Rare fields left out because they are empty: the "more fields" link says how many. */
export function hiddenCount(contact: Contact): number {
  return CARD_FIELDS.filter((f) => f.rare && empty(contact[f.key])).length
}

/** Fields the API sends that no entry above knows: shown read-only, so nothing the card gets is hidden. */
export function otherFields(contact: Contact): [string, string][] {
  return Object.entries(contact)
    .filter(([key, value]) => !KNOWN.has(key) && value !== null && typeof value !== 'object')
    .map(([key, value]) => [key, String(value)])
}

type Custom = Record<string, string | number | boolean | null>

/** ``size=L, loyalty=3, vip=true`` → typed values; ``size=`` removes the key (custom fields merge). */
export function parseCustom(raw: string): Custom {
  const result: Custom = {}
  for (const part of raw.split(/[,;\n]/)) {
    const at = part.indexOf('=')
    if (at <= 0) continue
    const key = part.slice(0, at).trim()
    const text = part.slice(at + 1).trim()
    if (!key) continue
    if (text === '') result[key] = null
    else if (text === 'true' || text === 'false') result[key] = text === 'true'
    else if (/^-?\d+(\.\d+)?$/.test(text)) result[key] = Number(text)
    else result[key] = text
  }
  return result
}

export function formatCustom(value: unknown): string {
  if (!value || typeof value !== 'object') return ''
  return Object.entries(value as Custom).map(([k, v]) => `${k}=${v}`).join(', ')
}

/** What the inline editor's text becomes in the PATCH body for this field. */
export function patchValue(kind: FieldKind, raw: string): unknown {
  const text = raw.trim()
  if (kind === 'operator') return text ? Number(text) : null
  if (kind === 'tags') return text.split(',').map((x) => x.trim()).filter(Boolean)
  if (kind === 'custom') return parseCustom(text)
  return text || null
}

/** The editor's starting text for a field's current value. */
export function draftOf(kind: FieldKind, value: unknown): string {
  if (value === null || value === undefined) return ''
  if (kind === 'tags' && Array.isArray(value)) return value.join(', ')
  if (kind === 'custom') return formatCustom(value)
  return String(value)
}

/** A customer we know only by the address they wrote from. */
export function unknownCustomer(contact: Contact): boolean {
  return contact.name.includes('•') || contact.identities.some((i) => i.value === contact.name) || /^[+\d\s()@.-]+$/.test(contact.name)
}
