// The API client: JSON in and out, problem+json turned into an error that names its field.

export interface FieldProblem {
  field: string
  message: string
}

export class Problem extends Error {
  status: number
  title: string
  detail: string
  field: string | null
  errors: FieldProblem[]

  constructor(status: number, body: Record<string, unknown>) {
    const detail = typeof body.detail === 'string' ? body.detail : `HTTP ${status}`
    super(detail)
    this.status = status
    this.title = typeof body.title === 'string' ? body.title : ''
    this.detail = detail
    this.field = typeof body.field === 'string' ? body.field : null
    this.errors = Array.isArray(body.errors) ? (body.errors as FieldProblem[]) : []
  }

  /** The message for one form field, matched by the API's dotted name (``routing.limits.max_wait_s``). */
  about(field: string): string | null {
    const found = this.errors.find((e) => e.field === field)
    if (found) return found.message
    if (this.field === field) return this.detail.startsWith(`${field}: `) ? this.detail.slice(field.length + 2) : this.detail
    return null
  }
}

export const BASE = '/api/v1'
let onUnauthenticated: (() => void) | null = null

export function whenSignedOut(handler: () => void): void {
  onUnauthenticated = handler
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    ;(init.headers as Record<string, string>)['Content-Type'] = 'application/json'
  }
  const response = await fetch(BASE + path, init)
  if (response.status === 204) return undefined as T
  const text = await response.text()
  const data = text ? JSON.parse(text) : null
  if (!response.ok) {
    if (response.status === 401 && onUnauthenticated && !path.startsWith('/auth/login')) onUnauthenticated()
    throw new Problem(response.status, data ?? {})
  }
  return data as T
}

export const get = <T>(path: string) => api<T>('GET', path)
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {})
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body)
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body)
export const del = <T>(path: string) => api<T>('DELETE', path)

export function query(params: Record<string, string | number | null | undefined>): string {
  const pairs = Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== '')
  return pairs.length ? '?' + new URLSearchParams(pairs.map(([k, v]) => [k, String(v)])).toString() : ''
}
