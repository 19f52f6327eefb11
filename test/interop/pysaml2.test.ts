import { missingFor, pysaml2, startPythonIdp } from './python-idp.ts'
import { describeIdp } from './suite.ts'

describeIdp({ name: 'pysaml2', missing: missingFor(pysaml2), start: () => startPythonIdp(pysaml2) })
