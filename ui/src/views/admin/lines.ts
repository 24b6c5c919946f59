// Lines as the admin screens edit them: load, then PATCH only what changed; the API validates.

import { ref } from 'vue'
import { Problem, get, patch } from '../../api'
import type { Line, User } from '../../types'

export const lines = ref<Line[]>([])
export const operators = ref<User[]>([])

export async function loadLines(): Promise<void> {
  const [found, people] = await Promise.all([get<Line[]>('/lines'), get<User[]>('/operators')])
  lines.value = found
  operators.value = people
}

/** Save; returns the API's problem (shown next to its field) or null. */
export async function saveLine(id: number, fields: Partial<Line>): Promise<Problem | null> {
  try {
    const saved = await patch<Line>(`/lines/${id}`, fields)
    lines.value = lines.value.map((l) => (l.id === id ? saved : l))
    return null
  } catch (error) {
    if (error instanceof Problem) return error
    throw error
  }
}

export function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/** '' → absent, numbers as numbers: the routing JSON keeps only what the admin set. */
export function numberOrNone(value: unknown): number | undefined {
  if (value === '' || value === null || value === undefined) return undefined
  const n = Number(value)
  return Number.isFinite(n) ? n : (value as number)
}

export function prune(value: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || item === '' || item === null) continue
    if (typeof item === 'object' && !Array.isArray(item)) {
      const inner = prune(item as Record<string, unknown>)
      if (Object.keys(inner).length) result[key] = inner
    } else result[key] = item
  }
  return result
}
