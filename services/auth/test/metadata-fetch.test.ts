import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { startDnsServer, type TestDnsServer } from '@gatehouse/testing'
import {
  createMetadataFetcher,
  isPublicAddress,
  type MetadataFetchOptions,
  type MetadataFetchReason,
} from '../src/sso/metadata-fetch.ts'
import { devIdp } from './harness.ts'

/** A loopback web server playing an IdP's metadata URL, and the ways one can misbehave. */
async function startMetadataServer(metadataXml: string) {
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/'
    if (path === '/metadata') return response.end(metadataXml)
    if (path.startsWith('/redirect-to-')) {
      response.writeHead(302, { location: decodeURIComponent(path.slice('/redirect-to-'.length)) })
      return response.end()
    }
    if (path === '/large') {
      // No Content-Length: the limit must hold while reading.
      response.writeHead(200, { 'content-type': 'application/xml' })
      const chunk = `<!--${'x'.repeat(64 * 1024)}-->`
      for (let written = 0; written < 6; written += 1) response.write(chunk)
      return response.end(metadataXml)
    }
    if (path === '/large-declared') {
      response.writeHead(200, { 'content-length': String(10 * 1024 * 1024) })
      return response.write('<')
    }
    // Headers at once, then the body never ends: only the total time limit stops it.
    if (path === '/slow') {
      response.writeHead(200, { 'content-type': 'application/xml' })
      return response.write('<EntityDescriptor')
    }
    response.writeHead(404)
    response.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function refusal(promise: Promise<unknown>): Promise<MetadataFetchReason | 'fetched'> {
  try {
    await promise
    return 'fetched'
  } catch (error) {
    return (error as { reason: MetadataFetchReason }).reason
  }
}

describe('fetching IdP metadata from a URL a tenant typed (SSRF guard)', () => {
  let dns: TestDnsServer
  let server: Awaited<ReturnType<typeof startMetadataServer>>
  let metadataXml: string
  const fetcher = (options: Partial<MetadataFetchOptions> = {}) =>
    createMetadataFetcher({ dnsServers: [dns.address], allowLoopbackHttp: false, ...options })

  before(async () => {
    metadataXml = (await devIdp()).federationMetadataXml()
    dns = await startDnsServer()
    server = await startMetadataServer(metadataXml)
    dns.setAddresses('idp.loopback.test', ['127.0.0.1'])
    dns.setAddresses('private.example.test', ['10.1.2.3'])
    dns.setAddresses('metadata-service.example.test', ['169.254.169.254'])
    dns.setAddresses('link-local6.example.test', ['fe80::1'])
    dns.setAddresses('unique-local.example.test', ['fd12:3456::1'])
    dns.setAddresses('mapped.example.test', ['::ffff:127.0.0.1'])
    dns.setAddresses('mixed.example.test', ['93.184.216.34', '10.0.0.1'])
  })
  after(async () => {
    await server.close()
    await dns.close()
  })

  it('reads metadata over plain http from loopback only under the development setting, connecting to the address it checked', async () => {
    const development = fetcher({ allowLoopbackHttp: true })
    assert.equal(await development(server.url('/metadata')), metadataXml)
    // The name is known only to the test DNS server: the connection goes to the address resolved and checked here.
    assert.equal(await development(`http://idp.loopback.test:${server.port}/metadata`), metadataXml)
    // Plain http anywhere but loopback stays refused, even in development.
    assert.equal(await refusal(development(`http://private.example.test:${server.port}/metadata`)), 'invalid_url')
    // Without the setting (production), http is refused before anything is resolved.
    assert.equal(await refusal(fetcher()(server.url('/metadata'))), 'invalid_url')
  })

  it('refuses https to loopback, private, link-local, unique-local, multicast, unspecified and IPv4-mapped addresses, literal or resolved', async () => {
    const fetch = fetcher()
    for (const url of [
      `https://127.0.0.1:${server.port}/metadata`,
      `https://[::1]:${server.port}/metadata`,
      `https://idp.loopback.test:${server.port}/metadata`,
      'https://10.0.0.1/metadata',
      'https://172.16.5.4/metadata',
      'https://192.168.1.1/metadata',
      'https://100.64.0.1/metadata',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fe80::1]/metadata',
      'https://[fd00::1]/metadata',
      'https://0.0.0.0/metadata',
      'https://[::]/metadata',
      'https://224.0.0.1/metadata',
      'https://[ff02::1]/metadata',
      'https://[::ffff:127.0.0.1]/metadata',
      'https://[::ffff:a9fe:a9fe]/metadata',
      'https://[64:ff9b::a00:1]/metadata',
      'https://private.example.test/metadata',
      'https://metadata-service.example.test/metadata',
      'https://link-local6.example.test/metadata',
      'https://unique-local.example.test/metadata',
      'https://mapped.example.test/metadata',
      // One refused address among public ones refuses the host.
      'https://mixed.example.test/metadata',
    ]) {
      assert.equal(await refusal(fetch(url)), 'address_refused', url)
    }
    for (const url of [
      'ftp://idp.example/metadata',
      'file:///etc/passwd',
      'https://user:pw@idp.example/x',
      'idp.example',
    ]) {
      assert.equal(await refusal(fetch(url)), 'invalid_url', url)
    }
    assert.equal(await refusal(fetch('https://nowhere.example.test/metadata')), 'dns_failed')
    assert.ok(isPublicAddress('93.184.216.34') && isPublicAddress('2606:2800:220:1::1'), 'public addresses pass')
    assert.ok(!isPublicAddress('fe80::1%eth0') && !isPublicAddress('not-an-address'), 'scoped or malformed: refused')
  })

  it('refuses IPv6 outside global unicast and the blocks within it that lead elsewhere (6to4, Teredo, local NAT64)', async () => {
    const fetch = fetcher()
    dns.setAddresses('six-to-four.example.test', ['2002:a9fe:a9fe::1'])
    for (const url of [
      // Local-use NAT64 (RFC 8215): a translator on the network would reach 10.0.0.1.
      'https://[64:ff9b:1::a00:1]/metadata',
      // 6to4 (RFC 3056) carrying 169.254.169.254; Teredo (RFC 4380); IPv4-translated (RFC 2765).
      'https://[2002:a9fe:a9fe::1]/metadata',
      'https://six-to-four.example.test/metadata',
      'https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/metadata',
      'https://[::ffff:0:a00:1]/metadata',
      // Documentation (RFC 9637), and outside 2000::/3 altogether.
      'https://[3fff::1]/metadata',
      'https://[5f00::1]/metadata',
      'https://192.88.99.1/metadata',
      'https://198.18.0.1/metadata',
    ]) {
      assert.equal(await refusal(fetch(url)), 'address_refused', url)
    }
    assert.ok(isPublicAddress('2a00:1450:4001:80b::200e'), 'global unicast passes')
  })

  it('follows no redirect, to a private address or anywhere else', async () => {
    const development = fetcher({ allowLoopbackHttp: true })
    for (const target of ['http://169.254.169.254/latest/meta-data/', server.url('/metadata')]) {
      const url = server.url(`/redirect-to-${encodeURIComponent(target)}`)
      assert.equal(await refusal(development(url)), 'redirect', target)
    }
    assert.equal(await refusal(development(server.url('/missing'))), 'http_status')
  })

  it('stops reading past the size limit, declared or not, and past the total time limit', async () => {
    const development = fetcher({ allowLoopbackHttp: true })
    assert.equal(await refusal(development(server.url('/large'))), 'too_large')
    assert.equal(await refusal(development(server.url('/large-declared'))), 'too_large')
    const impatient = fetcher({ allowLoopbackHttp: true, timeoutMs: 300 })
    assert.equal(await refusal(impatient(server.url('/slow'))), 'timeout')
    // A resolver that never answers is bounded by the same limit.
    dns.silence('silent.example.test')
    assert.match(String(await refusal(impatient('https://silent.example.test/metadata'))), /^(timeout|dns_failed)$/)
  })
})
