// Keyboard shortcuts: one registry, so the cheat sheet (?) always lists what really works.

import { reactive } from 'vue'

export interface Shortcut {
  id: string
  keys: string // as shown: "Alt+A"
  label: string // an i18n key
  group: string // an i18n key
  run: () => void
  whileTyping?: boolean // also fires with the focus in a text field (modifier shortcuts)
}

export const registry = reactive(new Map<string, Shortcut>())

export function bind(shortcuts: Shortcut[]): () => void {
  for (const s of shortcuts) registry.set(s.id, s)
  return () => shortcuts.forEach((s) => registry.get(s.id) === s && registry.delete(s.id))
}

/** "Alt+A" from a keyboard event; letters by physical key so layouts (ЙЦУКЕН) do not matter. */
export function chord(event: KeyboardEvent): string {
  const parts: string[] = []
  if (event.ctrlKey) parts.push('Ctrl')
  if (event.altKey) parts.push('Alt')
  if (event.shiftKey && event.key !== '?') parts.push('Shift')
  let key = event.key
  if (event.code.startsWith('Key')) key = event.code.slice(3)
  else if (event.code.startsWith('Digit')) key = event.code.slice(5)
  else if (key.length === 1) key = key.toUpperCase()
  parts.push(key === ' ' ? 'Space' : key)
  return parts.join('+')
}

function typing(target: EventTarget | null): boolean {
  const element = target as HTMLElement | null
  if (!element) return false
  return element.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(element.tagName)
}

export function dispatch(event: KeyboardEvent): boolean {
  const pressed = chord(event)
  for (const shortcut of registry.values()) {
    if (shortcut.keys !== pressed) continue
    if (typing(event.target) && !shortcut.whileTyping) continue
    event.preventDefault()
    shortcut.run()
    return true
  }
  return false
}

if (typeof window !== 'undefined') window.addEventListener('keydown', (event) => dispatch(event))
