// Durations, clock times and the SLA colour of a wait.

import { ref } from 'vue'

/** A reactive "now" that ticks every second: timers on screen read it. */
export const now = ref(Date.now())
if (typeof window !== 'undefined') window.setInterval(() => (now.value = Date.now()), 1000)

export function seconds(from: string | number | null | undefined, to = now.value): number {
  if (from === null || from === undefined) return 0
  const start = typeof from === 'number' ? from : Date.parse(from)
  return Math.max(0, Math.floor((to - start) / 1000))
}

export function duration(total: number | null | undefined): string {
  if (total === null || total === undefined) return '—'
  const s = Math.max(0, Math.floor(total))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = String(s % 60).padStart(2, '0')
  return h ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`
}

export type SlaLevel = 'ok' | 'warn' | 'late'

/** Green until half the target, amber until the target, red after it. */
export function slaLevel(waited: number, target: number): SlaLevel {
  if (waited >= target) return 'late'
  if (waited >= target / 2) return 'warn'
  return 'ok'
}

const formats = new Map<string, [Intl.DateTimeFormat, Intl.DateTimeFormat]>()

/** Today's times as 14:05, older ones with the date; formatters are made once per locale (rows render often). */
export function clock(at: string, locale: string): string {
  let pair = formats.get(locale)
  if (!pair) {
    pair = [
      new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }),
      new Intl.DateTimeFormat(locale, { day: '2-digit', month: 'short', hour: '2-digit', minute: '2-digit' }),
    ]
    formats.set(locale, pair)
  }
  const date = new Date(at)
  const today = new Date()
  const sameDay = date.getDate() === today.getDate() && date.getMonth() === today.getMonth() && date.getFullYear() === today.getFullYear()
  return pair[sameDay ? 0 : 1].format(date)
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>()

/** The customer's local time; the card asks every second, so a formatter is made once per zone and locale. */
export function localTime(zone: string | null, locale: string, at = now.value): string | null {
  if (!zone) return null
  const key = `${locale}|${zone}`
  let format = zoneFormats.get(key)
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(locale, { timeZone: zone, hour: '2-digit', minute: '2-digit' })
    } catch {
      return null // an unknown zone
    }
    zoneFormats.set(key, format)
  }
  return format.format(new Date(at))
}

export function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]!.toUpperCase())
    .join('')
}
