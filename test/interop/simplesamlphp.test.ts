import { simpleSamlPhpMissing, startSimpleSamlPhp } from './simplesamlphp.ts'
import { describeIdp } from './suite.ts'

describeIdp({ name: 'SimpleSAMLphp', missing: simpleSamlPhpMissing, start: startSimpleSamlPhp })
