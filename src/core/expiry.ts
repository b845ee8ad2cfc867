// When a fresh trait result stops counting: its evaluation time plus a ttl. Pure.

/** evaluatedAt + ttlSeconds (epoch ms); undefined when there is no ttl (the result never expires). */
export function expiryOf(evaluatedAt: number, ttlSeconds: number | undefined): number | undefined {
  return ttlSeconds === undefined ? undefined : evaluatedAt + ttlSeconds * 1000;
}
