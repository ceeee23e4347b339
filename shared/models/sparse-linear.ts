/**
 * Reads BGE-M3's `sparse_linear.pt` (BAAI/bge-m3 on the hub; fastembed-rs converted the same file
 * into the weights it bundles): a PyTorch checkpoint of one `Linear(hidden, 1)`, `{weight: [1, hidden],
 * bias: [1]}`. A PyTorch checkpoint is a zip archive whose tensors are stored uncompressed as
 * `<archive>/data/<n>` entries of raw little-endian float32; the two are told apart by size
 * (hidden x 4 bytes, and 4 bytes), so no pickle needs reading.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../errors.ts';
import type { SparseLinearHead } from '../math/sparse.ts';

export const SPARSE_LINEAR_FILE = 'sparse_linear.pt';

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly size: number;
  readonly localHeader: number;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

function zipEntries(bytes: Buffer): ZipEntry[] {
  let end = -1;
  for (let offset = bytes.length - 22; offset >= Math.max(0, bytes.length - 22 - 65_535); offset--) {
    if (bytes.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) {
      end = offset;
      break;
    }
  }
  if (end < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = bytes.readUInt16LE(end + 10);
  let offset = bytes.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index++) {
    if (bytes.readUInt32LE(offset) !== CENTRAL_ENTRY) throw new Error(`bad central directory entry ${index}`);
    const nameLength = bytes.readUInt16LE(offset + 28);
    const extraLength = bytes.readUInt16LE(offset + 30);
    const commentLength = bytes.readUInt16LE(offset + 32);
    entries.push({
      method: bytes.readUInt16LE(offset + 10),
      size: bytes.readUInt32LE(offset + 24),
      localHeader: bytes.readUInt32LE(offset + 42),
      name: bytes.toString('utf8', offset + 46, offset + 46 + nameLength),
    });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function entryFloats(bytes: Buffer, entry: ZipEntry): Float32Array {
  if (entry.method !== 0) throw new Error(`${entry.name} is compressed (method ${entry.method}); PyTorch stores tensors uncompressed`);
  if (bytes.readUInt32LE(entry.localHeader) !== LOCAL_HEADER) throw new Error(`bad local header for ${entry.name}`);
  const start = entry.localHeader + 30 + bytes.readUInt16LE(entry.localHeader + 26) + bytes.readUInt16LE(entry.localHeader + 28);
  const floats = new Float32Array(entry.size / 4);
  for (let index = 0; index < floats.length; index++) floats[index] = bytes.readFloatLE(start + index * 4);
  return floats;
}

/**
 * The head in a model folder (`sparse_linear.pt`), checked against the model's hidden size.
 * @throws ConfigurationError naming the file, what it holds and what was expected.
 */
export function readSparseLinearHead(dir: string, hidden: number | undefined, modelId: string): SparseLinearHead {
  const path = join(dir, SPARSE_LINEAR_FILE);
  try {
    const bytes = readFileSync(path);
    const storages = zipEntries(bytes).filter((entry) => /(^|\/)data\/\d+$/.test(entry.name));
    // Without a declared hidden size (a dynamic dimension), the weight is the one tensor of more than one value.
    const weights = storages.filter((entry) => (hidden === undefined ? entry.size > 4 : entry.size === hidden * 4));
    const biases = storages.filter((entry) => entry.size === 4);
    if (weights.length !== 1 || biases.length !== 1) {
      throw new Error(
        `expected one tensor of ${hidden ?? 'hidden-size'} float32 values (weight) and one of 1 (bias); found tensors of ${storages.map((entry) => entry.size / 4).join(', ') || 'no'} values`,
      );
    }
    return { weight: entryFloats(bytes, weights[0]), bias: entryFloats(bytes, biases[0])[0] };
  } catch (cause) {
    throw new ConfigurationError(
      `The sparse model ${modelId} needs BGE-M3's sparse head ${path} (a PyTorch Linear(${hidden ?? 'hidden'}, 1), ${SPARSE_LINEAR_FILE} from BAAI/bge-m3): ${(cause as Error).message}.`,
      { cause },
    );
  }
}
