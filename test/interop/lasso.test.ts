import { lasso, missingFor, startPythonIdp } from './python-idp.ts'
import { describeIdp } from './suite.ts'

// Lasso always signs the assertion it builds: it offers no response-only signing.
describeIdp({
  name: 'Lasso',
  missing: missingFor(lasso),
  start: () => startPythonIdp(lasso),
  signings: ['assertion', 'both'],
})
