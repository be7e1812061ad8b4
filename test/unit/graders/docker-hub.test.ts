/**
 * The Docker Hub check's pure parts: the test hook's registry setting, the pull errors engines
 * relay (Docker Hub's and a distribution registry's words, as Docker 20.10–29 print them), and
 * the tags lookup that tells a missing repository from a missing tag on a distribution registry.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { explainPullError, registryMirror, registryTags } from '../../../graders/checks/docker-hub.ts';

const REF = { user: 'alice', repo: 'tutorial7', tag: 'v1' };

describe('docker-hub: registry hook, pull errors, tags lookup', () => {
  it('LABGRADE_REGISTRY_MIRROR: HOST[:PORT] accepted (scheme and trailing slash dropped), anything else refused, unset → null', () => {
    expect(registryMirror({})).to.equal(null);
    expect(registryMirror({ LABGRADE_REGISTRY_MIRROR: ' ' })).to.equal(null);
    expect(registryMirror({ LABGRADE_REGISTRY_MIRROR: '127.0.0.1:15000' })).to.equal('127.0.0.1:15000');
    expect(registryMirror({ LABGRADE_REGISTRY_MIRROR: 'http://registry.lan:5000/' })).to.equal(
      'registry.lan:5000',
    );
    expect(() => registryMirror({ LABGRADE_REGISTRY_MIRROR: 'a b;rm -rf' })).to.throw(/HOST\[:PORT\]/);
  });

  it('Docker Hub: a repository that does not exist (or is private)', () => {
    const e = explainPullError(
      "pull access denied for alice/tutorial7, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      REF,
      'Docker Hub',
    );
    expect(e.why).to.equal('no-repository');
    expect(e.message).to.include('expected the repository alice/tutorial7 on Docker Hub');
    expect(e.message).to.include('docker push alice/tutorial7:v1');
    expect(e.message).to.include('pull access denied');
  });

  it('a distribution registry: "name unknown" is a missing repository; "manifest unknown" a missing tag', () => {
    expect(
      explainPullError(
        'repository 127.0.0.1:15000/alice/tutorial7 not found: name unknown: repository name not known to registry',
        REF,
        'r',
      ).why,
    ).to.equal('no-repository');
    const t = explainPullError(
      'manifest for alice/tutorial7:v1 not found: manifest unknown: manifest unknown',
      REF,
      'Docker Hub',
    );
    expect(t.why).to.equal('no-tag');
    expect(t.message).to.include('has no tag "v1"');
    // The tags lookup may know better: distribution 2.8 says "manifest unknown" for an unknown repository too.
    expect(explainPullError('manifest unknown', REF, 'r', { repositoryMissing: true }).why).to.equal(
      'no-repository',
    );
  });

  it('anything else (network, auth, timeouts) verbatim', () => {
    const e = explainPullError(
      'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
      REF,
      'Docker Hub',
    );
    expect(e.why).to.equal('other');
    expect(e.message).to.equal(
      'expected alice/tutorial7:v1 to pull from Docker Hub, got: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host',
    );
  });

  it('tags lookup on a registry speaking the distribution API: NAME_UNKNOWN → missing; 200 → tags; other → cannot tell', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/v2/alice/tutorial7/tags/list') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ name: 'alice/tutorial7', tags: ['latest', 'v2'] }));
      } else if (req.url === '/v2/alice/gone/tags/list') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }],
          }),
        );
      } else {
        res.writeHead(500);
        res.end('boom');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const at = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(await registryTags(at, 'alice/tutorial7')).to.deep.equal({
        exists: true,
        tags: ['latest', 'v2'],
      });
      expect(await registryTags(at, 'alice/gone')).to.deep.equal({ exists: false });
      expect(await registryTags(at, 'alice/err')).to.equal(null);
    } finally {
      server.close();
    }
    // Nothing listening: cannot tell.
    expect(await registryTags(at, 'alice/tutorial7')).to.equal(null);
  });
});
