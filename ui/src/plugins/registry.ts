// The integration panel's plug-in point.
//
// A plug-in is a JS module registered by name. The desk calls `load(contact)` as soon as it knows who
// is calling or writing — while the offer still rings — and `mount(slot, data)` when the operator opens
// the conversation. Plug-ins know nothing of Vue: they render into the element they are given.

import type { Contact } from '../types'

export interface PluginContext {
  /** GET from the Switchboard API with the operator's session (path under /api/v1). */
  get<T>(path: string): Promise<T>
  locale: string
}

export interface DeskPlugin<Data = unknown> {
  title: string | Record<string, string> // plain, or by locale: { ru: 'Заказы', en: 'Orders' }
  load(contact: Contact, context: PluginContext): Promise<Data>
  mount(slot: HTMLElement, data: Data, context: PluginContext): void | (() => void)
}

type Loader = () => Promise<{ default: DeskPlugin<any> }>

const loaders = new Map<string, Loader>()
const modules = new Map<string, Promise<DeskPlugin<any>>>()
const results = new Map<string, Promise<unknown>>()

/** Register a plug-in module by name; `load` returns the module (a dynamic import keeps it out of the first load). */
export function registerPlugin(name: string, loader: Loader | DeskPlugin<any>): void {
  loaders.set(name, typeof loader === 'function' ? (loader as Loader) : async () => ({ default: loader }))
  modules.delete(name)
}

export function pluginNames(): string[] {
  return [...loaders.keys()]
}

export function plugin(name: string): Promise<DeskPlugin<any>> {
  let found = modules.get(name)
  if (!found) {
    const loader = loaders.get(name)
    if (!loader) return Promise.reject(new Error(`no plug-in named ${name}`))
    found = loader().then((m) => m.default)
    modules.set(name, found)
  }
  return found
}

/** Start every plug-in's load for a contact (cached per contact): called when an offer starts ringing. */
export function preload(contact: Contact, context: PluginContext): void {
  for (const name of loaders.keys()) void data(name, contact, context).catch(() => undefined)
}

export function data(name: string, contact: Contact, context: PluginContext): Promise<unknown> {
  const key = `${name}:${contact.id}`
  let found = results.get(key)
  if (!found) {
    found = plugin(name).then((p) => p.load(contact, context))
    results.set(key, found)
    found.catch(() => results.delete(key))
  }
  return found
}

export function forget(contactId: number): void {
  for (const key of [...results.keys()]) if (key.endsWith(`:${contactId}`)) results.delete(key)
}

// Plug-ins shipped with the desk. Others: registerPlugin('crm', () => import('./crm')) here, or at run time
// window.Switchboard.registerPlugin('crm', { title, load, mount }) from a script the page includes.
registerPlugin('demo-orders', () => import('./demoOrders'))

declare global {
  interface Window {
    Switchboard?: { registerPlugin: typeof registerPlugin }
  }
}
if (typeof window !== 'undefined') window.Switchboard = { registerPlugin }
