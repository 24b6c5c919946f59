// The customer card's fields as data: adding a field the API grows (tags, segment, consents…) is one entry here.

import type { Contact } from './types'

export type FieldKind = 'text' | 'zone' | 'operator' | 'tags' | 'list' | 'readonly'

export interface CardField {
  key: string // the contact's field in the API
  label: string // an i18n key
  kind: FieldKind
  editable: boolean // PATCH /contacts/{id} takes it
  onlyWhenPresent?: boolean // fields another part of the API may not have yet
}

export const CARD_FIELDS: CardField[] = [
  { key: 'time_zone', label: 'card.timeZone', kind: 'zone', editable: true },
  { key: 'responsible_operator_id', label: 'card.responsible', kind: 'operator', editable: true },
  { key: 'segment', label: 'card.segment', kind: 'text', editable: true, onlyWhenPresent: true },
  { key: 'preferred_channel', label: 'card.preferredChannel', kind: 'readonly', editable: false, onlyWhenPresent: true },
  { key: 'tags', label: 'card.tags', kind: 'tags', editable: true, onlyWhenPresent: true },
  { key: 'consents', label: 'card.consents', kind: 'list', editable: false, onlyWhenPresent: true },
]

export const KNOWN = new Set(['id', 'name', 'tier', 'identities', 'created_at', 'updated_at', 'company_id', ...CARD_FIELDS.map((f) => f.key)])

export function shownFields(contact: Contact): CardField[] {
  return CARD_FIELDS.filter((f) => !f.onlyWhenPresent || contact[f.key] !== undefined)
}

/** Fields the API sends that no entry above knows: shown read-only, so nothing the card gets is hidden. */
export function otherFields(contact: Contact): [string, string][] {
  return Object.entries(contact)
    .filter(([key, value]) => !KNOWN.has(key) && value !== null && typeof value !== 'object')
    .map(([key, value]) => [key, String(value)])
}

/** A customer we know only by the address they wrote from. */
export function unknownCustomer(contact: Contact): boolean {
  return contact.name.includes('•') || contact.identities.some((i) => i.value === contact.name) || /^[+\d\s()@.-]+$/.test(contact.name)
}
