// Typing notices both ways, live only: the operator's keystrokes become at most one
// `POST /conversations/{id}/typing` every two seconds; the customer's `VisitorTyping` shows for a few.

/** Lets one call through per period: keystrokes are many, notices must be few. */
export class Throttle {
  private last = Number.NEGATIVE_INFINITY

  constructor(private readonly periodMs: number) {}

  ready(now: number): boolean {
    if (now - this.last < this.periodMs) return false
    this.last = now
    return true
  }

  reset(): void {
    this.last = Number.NEGATIVE_INFINITY
  }
}

export const OPERATOR_TYPING_EVERY_MS = 2000
/** The widget repeats its notice at most every 2 s while the customer types: a little longer means "still typing". */
export const CUSTOMER_TYPING_SHOWN_MS = 4000
