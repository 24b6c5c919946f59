// Who is signed in; the cookie is HttpOnly, so the page asks /auth/me.

import { ref } from 'vue'
import { get, post, put } from './api'
import { live } from './live'
import type { Role, User } from './types'

export const me = ref<User | null>(null)

export async function loadSession(): Promise<User | null> {
  try {
    me.value = await get<User>('/auth/me')
  } catch {
    me.value = null
  }
  return me.value
}

export async function signIn(login: string, password: string): Promise<User> {
  const answer = await post<{ user: User }>('/auth/login', { login, password })
  me.value = answer.user
  return answer.user
}

export async function signOut(): Promise<void> {
  if (me.value?.role === 'operator') {
    await put('/me/status', { status: 'offline' }).catch(() => undefined)
  }
  live.stop()
  await post('/auth/logout').catch(() => undefined)
  me.value = null
}

export function home(role: Role | undefined): string {
  if (role === 'operator') return '/desk'
  if (role === 'supervisor' || role === 'admin') return '/floor'
  return '/login'
}
