// The API's shapes, as the desk uses them (see /api/v1/openapi.json).

export type Role = 'admin' | 'supervisor' | 'operator'

export interface User {
  id: number
  login: string
  name: string
  role: Role
  active: boolean
  email: string | null
  skills: Record<string, number>
  capacity: Record<string, number>
  max_total: number
  status: string
  missed_offers: number
}

export interface Identity {
  kind: string
  value: string
}

export interface Contact {
  id: number
  name: string
  tier: 'regular' | 'vip'
  company_id: number | null
  time_zone: string | null
  responsible_operator_id: number | null
  identities: Identity[]
  created_at: string
  updated_at: string
  [field: string]: unknown
}

export type ConversationStatus = 'new' | 'queued' | 'offered' | 'assigned' | 'waiting' | 'closed'

export interface Conversation {
  id: number
  contact_id: number
  line_id: number
  channel_id: number
  status: ConversationStatus
  assignee_id: number | null
  opened_at: string
  closed_at: string | null
  last_message_at: string
  source: Record<string, unknown>
}

export interface Attachment {
  name: string
  content_type: string
  size: number
  url: string | null
}

export interface Message {
  id: number
  conversation_id: number
  channel_id: number
  direction: 'in' | 'out'
  author_kind: 'contact' | 'operator' | 'system'
  author_id: number | null
  text: string
  attachments: Attachment[]
  external_id: string | null
  delivery_status: string
  error: string | null
  created_at: string
}

export interface Note {
  id: number
  conversation_id: number
  author_id: number | null
  text: string
  created_at: string
}

export interface TimelineEntry {
  id: number
  kind: string
  ref_id: number
  conversation_id: number | null
  channel: string | null
  occurred_at: string
  summary: string
}

export interface Lead {
  id: number
  contact_id: number
  conversation_id: number | null
  title: string
  status: string
  automatic: boolean
  created_at: string
}

export interface Line {
  id: number
  name: string
  time_zone: string
  create_lead_for_new_contact: boolean
  reopen_window_seconds: number
  active: boolean
  operator_ids: number[]
  routing: Record<string, any>
}

export interface Channel {
  id: number
  kind: string
  name: string
  line_id: number
  active: boolean
  settings: Record<string, any>
  secrets?: string[] // names only: values are never shown
  health?: { last_success_at: string | null; last_error_at: string | null; last_error: string | null; failing: boolean }
  waiting?: number // replies queued or retrying for the provider
}

export interface Offer {
  conversation_id: number
  line_id: number
  deadline: string
}

export interface Canned {
  id: number
  shortcut: string
  title: string
  text: string
}

export interface Presence {
  operator_id: number
  status: string
  reason: string
  logged_in: boolean
}

export interface QueueFigures {
  line_id: number
  name: string
  waiting: number
  longest_wait_s: number | null
  service_level_s: number
  service_level: number | null
  answered_today: number
  abandoned_today: number
}

export interface FloorOperator {
  id: number
  name: string
  status: string
  reason: string
  since: string | null
  logged_in: boolean
  load: number
  max_total: number
  line_ids: number[]
  missed_offers: number
}

export interface FloorConversation {
  id: number
  line_id: number
  contact_id: number
  contact_name: string
  vip: boolean
  channel_kind: string
  status: ConversationStatus
  waiting_since: string
  assignee_id: number | null
}

export interface Floor {
  at: string
  lines: QueueFigures[]
  operators: FloorOperator[]
  conversations: FloorConversation[]
}

export interface LiveEvent {
  id: number
  event: string
  occurred_at: string
  data: Record<string, any>
}

export interface Suggestion {
  contact: Contact
  score: number
  reasons: { field: string; similarity: number; weight: number }[]
}

export interface MergeResult {
  merge_id: number
  survivor: Contact
  duplicate_id: number
  taken: Record<string, 'survivor' | 'duplicate'>
  moved: Record<string, number>
}
