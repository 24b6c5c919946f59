// The admin's channel screen as data: what a channel's health says, and which secrets a save sends.

export interface ChannelHealth {
  last_success_at: string | null
  last_error_at: string | null
  last_error: string | null
  failing: boolean
}

export type HealthState = 'failing' | 'ok' | 'untested'

export function healthState(health: ChannelHealth | undefined): HealthState {
  if (!health) return 'untested'
  if (health.failing) return 'failing'
  return health.last_success_at ? 'ok' : 'untested'
}

/** One line of the write-only secrets editor: a stored name (value never shown) or a new one. */
export interface SecretEdit {
  name: string
  value: string // '' keeps the stored value
  remove: boolean
  stored: boolean
}

export function secretEdits(names: string[]): SecretEdit[] {
  return names.map((name) => ({ name, value: '', remove: false, stored: true }))
}

/** The PATCH's ``secrets``: new values and removals only, or nothing when no secret changed. */
export function secretsPatch(edits: SecretEdit[]): Record<string, string | null> | undefined {
  const patch: Record<string, string | null> = {}
  for (const edit of edits) {
    const name = edit.name.trim()
    if (!name) continue
    if (edit.remove) {
      if (edit.stored) patch[name] = null
    } else if (edit.value !== '') patch[name] = edit.value
  }
  return Object.keys(patch).length ? patch : undefined
}
