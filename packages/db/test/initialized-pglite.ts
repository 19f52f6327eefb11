// A fresh PGlite directory starts with initdb, run in WebAssembly: some 5–7 s of CPU, most of what a
// test on the embedded database spends. Tests that are not about that first start copy a directory
// initdb has already made instead (exported as "./initialized-pglite"), made once per PGlite
// install and kept in the system's temporary directory, as the Postgres template is kept on the
// server (test/support/isolated-database.ts). The services' migrations still run on the copy.
import { createHash } from 'node:crypto'
import { cpSync, existsSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { uniqueSuffix } from '@gatehouse/testing'

// The installed PGlite's own path names its version (node_modules/.pnpm/@electric-sql+pglite@x.y.z).
const pgliteInstall = createHash('sha256')
  .update(import.meta.resolve('@electric-sql/pglite'))
  .digest('hex')
  .slice(0, 16)

let template: Promise<string> | undefined
/**
 * Fills `directory` (absent or empty) with a copy of an initialized, empty PGlite data directory,
 * so that PGlite.create(directory) opens it instead of running initdb.
 */
export async function copyInitializedPglite(directory: string): Promise<void> {
  template ??= initializedTemplate()
  cpSync(await template, directory, { recursive: true })
}

async function initializedTemplate(): Promise<string> {
  const path = join(tmpdir(), `gatehouse-pglite-initialized-${pgliteInstall}`)
  if (existsSync(path)) return path
  // Made under another name and renamed when complete, so no test copies a half-made directory;
  // of two files making it at once, the second to finish drops its own.
  const building = `${path}-${uniqueSuffix()}`
  const database = await PGlite.create(building)
  await database.close()
  try {
    renameSync(building, path)
  } catch (error) {
    if (!existsSync(path)) throw error
    rmSync(building, { recursive: true, force: true })
  }
  return path
}
