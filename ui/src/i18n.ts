// Russian and English: the browser's language by default, switchable, remembered.

import { ref } from 'vue'
import { messages } from './messages'

export type Locale = 'ru' | 'en'
const KEY = 'sb.locale'

function initial(): Locale {
  const saved = typeof localStorage !== 'undefined' ? localStorage.getItem(KEY) : null
  if (saved === 'ru' || saved === 'en') return saved
  const language = typeof navigator !== 'undefined' ? navigator.language : 'en'
  return language.toLowerCase().startsWith('ru') ? 'ru' : 'en'
}

export const locale = ref<Locale>(initial())

export function setLocale(value: Locale): void {
  locale.value = value
  localStorage.setItem(KEY, value)
  document.documentElement.lang = value
}

export function t(key: string, params?: Record<string, string | number>): string {
  const text = messages[locale.value][key] ?? messages.en[key] ?? key
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`))
}

/** Status names: built-in ones translated, custom ones as the admin wrote them. */
export function statusName(status: string): string {
  const key = `status.${status}`
  const text = messages[locale.value][key] ?? messages.en[key]
  return text ?? status
}
