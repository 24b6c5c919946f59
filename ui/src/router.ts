import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { whenSignedOut } from './api'
import { home, loadSession, me } from './session'
import type { Role } from './types'
import LoginView from './views/LoginView.vue'
import DeskView from './views/DeskView.vue'

const MANAGERS: Role[] = ['supervisor', 'admin']
const routes: RouteRecordRaw[] = [
  { path: '/login', component: LoginView, meta: { public: true } },
  { path: '/desk', component: DeskView, meta: { roles: ['operator'] } },
  { path: '/floor', component: () => import('./views/FloorView.vue'), meta: { roles: MANAGERS } },
  {
    path: '/floor/conversations/:id',
    component: () => import('./views/ReadOnlyConversation.vue'),
    meta: { roles: MANAGERS },
    props: (route) => ({ id: Number(route.params.id) }),
  },
  {
    path: '/admin',
    component: () => import('./views/admin/AdminLayout.vue'),
    meta: { roles: MANAGERS },
    children: [
      { path: '', redirect: '/admin/lines' },
      { path: 'lines', component: () => import('./views/admin/LinesView.vue') },
      { path: 'hours', component: () => import('./views/admin/HoursView.vue') },
      { path: 'messages', component: () => import('./views/admin/AutoMessagesView.vue') },
      { path: 'channels', component: () => import('./views/admin/ChannelsView.vue') },
      { path: 'operators', component: () => import('./views/admin/OperatorsView.vue') },
      { path: 'canned', component: () => import('./views/admin/CannedView.vue') },
    ],
  },
  { path: '/:rest(.*)*', redirect: () => home(me.value?.role) },
]

export const router = createRouter({ history: createWebHistory(), routes })
let checked = false

router.beforeEach(async (to) => {
  if (!checked) {
    checked = true
    await loadSession()
  }
  if (to.meta.public) return me.value && to.path === '/login' ? home(me.value.role) : true
  if (!me.value) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  const roles = to.matched.flatMap((r) => (r.meta.roles as Role[] | undefined) ?? [])
  if (roles.length && !roles.includes(me.value.role)) return home(me.value.role)
  return true
})

whenSignedOut(() => {
  me.value = null
  if (router.currentRoute.value.path !== '/login') void router.push('/login')
})
