import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { MIN_NODE, nodeTooOld } from '../../cli/node-version.ts';

describe('cli/node-version', () => {
  it('accepts Ubuntu 24.04 (18.19.1), Debian bookworm (18.20.4), trixie (20.19.2) and newer', () => {
    for (const v of ['v18.19.0', 'v18.19.1', 'v18.20.4', 'v20.19.2', 'v22.0.0', 'v24.3.1'])
      expect(nodeTooOld(v), v).to.equal(undefined);
  });
  it('refuses older Node with one sentence: the version found, the version needed, the image', () => {
    const s = nodeTooOld('v16.20.2');
    expect(s).to.equal(
      `labgrade: Node.js v16.20.2 is too old: labgrade needs Node.js 18.19 or newer (Ubuntu 24.04's own nodejs is enough), or run it as an image, which needs no Node at all: see "For students" in labgrade's README.`,
    );
    expect(nodeTooOld('v18.18.2')).to.match(/v18\.18\.2 is too old: labgrade needs Node\.js 18\.19/);
    expect(nodeTooOld('v12.22.9')).to.be.a('string');
  });
  it('package.json engines says the same minimum', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      engines: { node: string };
    };
    expect(pkg.engines.node).to.equal(`>=${MIN_NODE.join('.')}`);
  });
});
