// The thread that parses IdP configuration (idp-config-parser.ts): up to METADATA_XML_LIMITS of
// XML per task, off the event loop that answers sign-ins.
import { idpConfigFromMetadata, idpConfigFromValues, SamlConfigError } from '@gatehouse/saml'
// Only the pool's module: the server package's index would load Fastify into the thread.
import { serveWorkerTasks } from '@gatehouse/server/worker-pool'
import type { IdpParseOutcome, IdpParseTask } from './idp-config-parser.ts'

serveWorkerTasks<IdpParseTask, IdpParseOutcome>(({ input, allowLoopbackHttp }) => {
  try {
    const parsed =
      'metadataXml' in input
        ? idpConfigFromMetadata(input.metadataXml, { allowLoopbackHttp })
        : idpConfigFromValues(input, { allowLoopbackHttp })
    return { parsed }
  } catch (error) {
    if (error instanceof SamlConfigError) return { refused: { reason: error.reason, fields: error.fields } }
    throw error
  }
})
