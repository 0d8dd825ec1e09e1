// `logs bundle transfer FILE DEST`: verifies the bundle, copies it, and checks the copy. DEST is a
// local path (a folder keeps the file's name) or `host:path`, sent with rsync or else scp; after a
// remote copy the remote file's SHA-256 is read back over ssh when ssh is installed.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { sha256File } from './checksum.js';
import { BundleError } from './errors.js';
import type { BundleProgress } from './progress.js';
import { verifyBundle } from './scan.js';

export interface TransferResult {
  target: string;
  via: 'copy' | 'rsync' | 'scp';
  sha256: string;
  bytes: number;
  /** How the copy was checked. */
  check: string;
}

/** rsync's rule: `host:path` has a colon before any slash; `./a:b` and `/a:b` are local. */
export function isRemote(dest: string): boolean {
  const colon = dest.indexOf(':');
  if (colon <= 0) return false;
  const slash = dest.indexOf('/');
  return slash === -1 || colon < slash;
}

export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

function run(
  command: string,
  args: string[],
  captureStdout: boolean,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ['inherit', captureStdout ? 'pipe' : 'inherit', 'inherit'] });
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout }));
  });
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

async function copyLocal(
  bundle: string,
  dest: string,
  sha256: string,
  bytes: number,
): Promise<TransferResult> {
  const intoFolder = dest.endsWith('/') || (existsSync(dest) && statSync(dest).isDirectory());
  const target = intoFolder ? join(dest, basename(bundle)) : dest;
  if (resolve(target) === resolve(bundle)) throw new BundleError(`${dest}: is the bundle itself`);
  mkdirSync(dirname(target), { recursive: true });
  const partial = `${target}.partial`;
  try {
    copyFileSync(bundle, partial);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  const copied = await sha256File(partial);
  if (copied.sha256 !== sha256 || copied.bytes !== bytes) {
    rmSync(partial, { force: true });
    throw new BundleError(`${target}: the copy differs from ${bundle} (sha256 ${copied.sha256}); removed`);
  }
  renameSync(partial, target);
  await verifyBundle(target);
  return { target, via: 'copy', sha256, bytes, check: 'sha256 of the copy matches and the copy verifies' };
}

async function copyRemote(
  bundle: string,
  dest: string,
  sha256: string,
  bytes: number,
): Promise<TransferResult> {
  const rsync = findOnPath('rsync');
  const scp = rsync === undefined ? findOnPath('scp') : undefined;
  if (rsync === undefined && scp === undefined) {
    throw new BundleError(`${dest}: a remote destination needs rsync or scp, and neither is installed`);
  }
  const via = rsync !== undefined ? 'rsync' : 'scp';
  const args = via === 'rsync' ? ['--partial', '--times', bundle, dest] : ['-q', '-p', bundle, dest];
  const copied = await run((rsync ?? scp) as string, args, false);
  if (copied.code !== 0) throw new BundleError(`${via} to ${dest} failed (exit ${copied.code})`);

  const colon = dest.indexOf(':');
  const host = dest.slice(0, colon);
  const path = dest.slice(colon + 1);
  const name = basename(bundle);
  const ssh = findOnPath('ssh');
  const viaCheck =
    via === 'rsync'
      ? 'rsync checked the whole-file checksum'
      : 'scp copied it (scp checks no whole-file sum)';
  if (ssh === undefined) {
    return {
      target: dest,
      via,
      sha256,
      bytes,
      check: `${viaCheck}; ssh not installed, remote sha256 not read`,
    };
  }
  const file = path === '' ? shellQuote(name) : `${shellQuote(path)}`;
  const script = `f=${file}; if [ -d "$f" ]; then f="$f/"${shellQuote(name)}; fi; sha256sum -- "$f"`;
  const remote = await run(ssh, [host, script], true);
  const remoteSum = /^([0-9a-f]{64})\s/.exec(remote.stdout)?.[1];
  if (remote.code !== 0 || remoteSum === undefined) {
    return {
      target: dest,
      via,
      sha256,
      bytes,
      check: `${viaCheck}; could not read the remote sha256 over ssh`,
    };
  }
  if (remoteSum !== sha256) {
    throw new BundleError(`${dest}: remote copy's sha256 ${remoteSum} differs from ${bundle}'s ${sha256}`);
  }
  return { target: dest, via, sha256, bytes, check: `${viaCheck}; remote sha256 matches` };
}

export async function transferBundle(
  bundle: string,
  dest: string,
  progress?: BundleProgress,
): Promise<TransferResult> {
  if (!existsSync(bundle) || !statSync(bundle).isFile()) throw new BundleError(`${bundle}: no such file`);
  if (dest.trim() === '') throw new BundleError('DEST is empty');
  await verifyBundle(bundle, progress);
  const { sha256, bytes } = await sha256File(bundle);
  return isRemote(dest) ? copyRemote(bundle, dest, sha256, bytes) : copyLocal(bundle, dest, sha256, bytes);
}
