import { loadConfigOrExit } from './cli.js'
import { startService, type Service } from './service.js'

let service: Service
try {
  service = await startService(loadConfigOrExit())
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error))
  process.exit(1)
}
const { app } = service

let closing = false
async function shutdown(signal: string) {
  if (closing) return
  closing = true
  app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests')
  const force = setTimeout(() => {
    app.log.error('in-flight requests did not finish within 25 s; exiting')
    process.exit(1)
  }, 25_000)
  force.unref()
  try {
    await service.close()
    process.exit(0)
  } catch (error) {
    app.log.error({ err: error }, 'error while closing')
    process.exit(1)
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))
