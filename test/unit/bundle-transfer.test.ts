// Which destinations `logs bundle transfer` treats as remote, and the PATH lookup for rsync/scp.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath, isRemote } from '../../src/logstore/bundle/transfer.js';
import { makeTempDir } from '../support/gateway.js';

const dir = makeTempDir('ai-proxy-transfer-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('isRemote', () => {
  it('follows rsync: a colon before any slash means host:path', () => {
    for (const remote of ['host:', 'host:/srv/bundles/', 'user@host:b.tgz', 'backup-1:dir/x.tgz']) {
      expect(isRemote(remote), remote).toBe(true);
    }
    for (const local of ['/srv/a:b', './a:b', 'dir/a:b', 'bundle.tgz', ':nohost', '../x']) {
      expect(isRemote(local), local).toBe(false);
    }
  });
});

describe('findOnPath', () => {
  it('finds a file in a PATH entry and skips folders of the same name', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    mkdirSync(join(a, 'rsync'), { recursive: true });
    mkdirSync(b);
    writeFileSync(join(b, 'rsync'), '#!/bin/sh\n');
    chmodSync(join(b, 'rsync'), 0o755);
    expect(findOnPath('rsync', `${a}:${b}`)).toBe(join(b, 'rsync'));
    expect(findOnPath('scp', `${a}:${b}`)).toBeUndefined();
  });
});
