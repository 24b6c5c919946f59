// The desk's websocket: resumes after a drop with ?last_event_id, so no event is missed or doubled.

import type { LiveEvent } from './types'

type Listener = (event: LiveEvent) => void

export class Live {
  private socket: WebSocket | null = null
  private listeners = new Map<string, Set<Listener>>()
  private lastId: number | null = null
  private retry = 0
  private stopped = true
  private ping: number | undefined
  private seen = new Set<number>()
  connected = false
  onState: ((connected: boolean) => void) | null = null

  on(event: string, listener: Listener): () => void {
    const set = this.listeners.get(event) ?? new Set()
    set.add(listener)
    this.listeners.set(event, set)
    return () => set.delete(listener)
  }

  start(): void {
    if (!this.stopped) return
    this.stopped = false
    this.open()
  }

  stop(): void {
    this.stopped = true
    window.clearInterval(this.ping)
    this.socket?.close()
    this.socket = null
  }

  private url(): string {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
    const resume = this.lastId !== null ? `?last_event_id=${this.lastId}` : ''
    return `${scheme}://${location.host}/api/v1/ws${resume}`
  }

  private open(): void {
    const socket = new WebSocket(this.url())
    this.socket = socket
    socket.onmessage = (message) => this.receive(String(message.data))
    socket.onclose = () => {
      window.clearInterval(this.ping)
      this.setConnected(false)
      if (this.stopped) return
      const delay = Math.min(5000, 250 * 2 ** this.retry++)
      window.setTimeout(() => !this.stopped && this.open(), delay)
    }
    socket.onopen = () => {
      this.retry = 0
      this.ping = window.setInterval(() => socket.readyState === WebSocket.OPEN && socket.send('ping'), 25_000)
    }
  }

  private setConnected(value: boolean): void {
    this.connected = value
    this.onState?.(value)
  }

  private receive(text: string): void {
    const frame = JSON.parse(text) as LiveEvent & { last_event_id?: number }
    if (frame.event === 'ready') {
      if (this.lastId === null) this.lastId = frame.last_event_id ?? 0
      this.setConnected(true)
      this.emit({ id: 0, event: 'ready', occurred_at: '', data: {} })
      return
    }
    if (frame.event === 'pong') return
    if (typeof frame.id !== 'number') {
      // live-only notices (someone typing) carry no id: never replayed, never counted
      if (frame.event) this.emit({ ...frame, id: 0 })
      return
    }
    if (this.seen.has(frame.id)) return
    this.seen.add(frame.id)
    if (this.seen.size > 5000) this.seen = new Set([...this.seen].slice(-1000))
    this.lastId = Math.max(this.lastId ?? 0, frame.id)
    this.emit(frame)
  }

  emit(frame: LiveEvent): void {
    for (const key of [frame.event, '*']) this.listeners.get(key)?.forEach((listener) => listener(frame))
  }
}

export const live = new Live()
