// The operator's files for a reply: each is uploaded as soon as it is picked, dropped or pasted,
// with progress; the reply then names them by id. Uploads go through XMLHttpRequest because fetch
// reports no upload progress.
import { reactive } from 'vue'
import { BASE, Problem } from './api'

/** The web chat's defaults; the server has the last word (a web chat channel may narrow them). */
export const ACCEPTED = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain']

export interface Uploaded {
  id: number
  conversation_id: number
  name: string
  content_type: string
  size: number
  sha256: string
  url: string
}

export interface Pending {
  key: number
  name: string
  size: number
  type: string
  progress: number // 0..1
  preview: string | null // an object URL for pictures
  uploaded: Uploaded | null
  error: string | null
  abort: () => void
}

export type Send = (
  url: string,
  body: FormData,
  onProgress: (fraction: number) => void,
) => { done: Promise<Uploaded>; abort: () => void }

let counter = 0

/** POST multipart with progress; problem+json answers become a ``Problem``. */
export const xhrSend: Send = (url, body, onProgress) => {
  const request = new XMLHttpRequest()
  const done = new Promise<Uploaded>((resolve, reject) => {
    request.open('POST', url)
    request.withCredentials = true
    request.setRequestHeader('Accept', 'application/json')
    request.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total)
    request.onload = () => {
      let data: Record<string, unknown> = {}
      try {
        data = request.responseText ? JSON.parse(request.responseText) : {}
      } catch {
        data = {}
      }
      if (request.status >= 200 && request.status < 300) resolve(data as unknown as Uploaded)
      else reject(new Problem(request.status, data))
    }
    request.onerror = () => reject(new Problem(0, { detail: 'the upload did not reach the server' }))
    request.onabort = () => reject(new Problem(0, { detail: 'cancelled' }))
    request.send(body)
  })
  return { done, abort: () => request.abort() }
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${Math.ceil(bytes / 1024)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

/** The files of one reply being written. */
export class Tray {
  readonly items = reactive<Pending[]>([])

  constructor(private readonly send: Send = xhrSend) {}

  add(conversationId: number, file: File): Pending {
    const body = new FormData()
    body.append('file', file, file.name)
    const picture = file.type.startsWith('image/') && typeof URL.createObjectURL === 'function'
    const item = reactive<Pending>({
      key: ++counter,
      name: file.name || 'file',
      size: file.size,
      type: file.type,
      progress: 0,
      preview: picture ? URL.createObjectURL(file) : null,
      uploaded: null,
      error: null,
      abort: () => undefined,
    }) as Pending
    this.items.push(item)
    const started = this.send(`${BASE}/conversations/${conversationId}/uploads`, body, (f) => (item.progress = f))
    item.abort = started.abort
    started.done.then(
      (uploaded) => {
        item.uploaded = uploaded
        item.progress = 1
      },
      (error: unknown) => (item.error = error instanceof Problem ? error.detail : String(error)),
    )
    return item
  }

  remove(key: number): void {
    const index = this.items.findIndex((i) => i.key === key)
    if (index < 0) return
    const [item] = this.items.splice(index, 1)
    if (item && !item.uploaded && !item.error) item.abort()
    if (item?.preview) URL.revokeObjectURL(item.preview)
  }

  clear(): void {
    for (const item of [...this.items]) this.remove(item.key)
  }

  get busy(): boolean {
    return this.items.some((i) => !i.uploaded && !i.error)
  }

  /** The ids to send; files that failed are left out (and stay shown with their reason). */
  get ids(): number[] {
    return this.items.flatMap((i) => (i.uploaded ? [i.uploaded.id] : []))
  }
}
