// The image's HEALTHCHECK: the program in this container answers /healthz on its port (PORT, or
// the program's default) within 2 s. Exit 0 when it does, 1 otherwise.
const defaultPorts = { web: 3000, auth: 3001, invitation: 3002 }
const port = process.env.PORT || defaultPorts[process.env.SERVICE] || 3000
try {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })
  process.exit(response.ok ? 0 : 1)
} catch {
  process.exit(1)
}
