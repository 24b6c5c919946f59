import type { Line } from './types'

export const DEFAULT_SERVICE_LEVEL_S = 60

/** The line's answer-time target (routing.service_level_s), the same the floor's service level uses. */
export function target(line: Line | undefined): number {
  const value = Number(line?.routing?.service_level_s)
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_SERVICE_LEVEL_S
}
