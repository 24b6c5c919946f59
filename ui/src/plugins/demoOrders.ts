// The demo plug-in: the contact's orders from the demo shop endpoint, as a compact table.

import type { DeskPlugin } from './registry'

interface Order {
  number: string
  placed_on: string
  item: string
  total: string
  currency: string
  status: string
}

const STATUS: Record<string, Record<string, string>> = {
  ru: { new: 'новый', paid: 'оплачен', shipped: 'в пути', delivered: 'доставлен', returned: 'возврат' },
  en: { new: 'new', paid: 'paid', shipped: 'shipped', delivered: 'delivered', returned: 'returned' },
}

// building a currency formatter costs more than the whole table: one per locale and currency
const formatters = new Map<string, Intl.NumberFormat>()
function money(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}:${currency}`
  let found = formatters.get(key)
  if (!found) {
    found = new Intl.NumberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 0 })
    formatters.set(key, found)
  }
  return found
}

const demoOrders: DeskPlugin<Order[]> = {
  title: { ru: 'Заказы (демо)', en: 'Orders (demo)' },
  load: (contact, context) => context.get<Order[]>(`/integrations/demo/contacts/${contact.id}/orders`),
  mount(slot, orders, context) {
    const words = STATUS[context.locale] ?? STATUS.en!
    if (!orders.length) {
      slot.innerHTML = `<p class="muted">${context.locale === 'ru' ? 'Заказов нет' : 'No orders'}</p>`
      return
    }
    const table = document.createElement('table')
    table.className = 'mini'
    for (const order of orders) {
      const row = table.insertRow()
      row.insertCell().textContent = `№${order.number}`
      row.insertCell().textContent = order.item
      row.insertCell().textContent = money(context.locale, order.currency).format(Number(order.total))
      const state = row.insertCell()
      state.innerHTML = `<span class="tag tag-${order.status}"></span>`
      state.firstElementChild!.textContent = words[order.status] ?? order.status
    }
    slot.replaceChildren(table)
  },
}

export default demoOrders
