/**
 * Moves the int8 weights of an ONNX model between signed and unsigned storage without changing
 * its math. `quantize_dynamic` writes MatMulInteger/ConvInteger weights as int8 ("u8s8": uint8
 * activations x int8 weights). On x86 CPUs without VNNI, ONNX Runtime's u8s8 kernels add pairs of
 * products in 16 bits and saturate, so the same model gives other vectors there (cosine 0.97 for
 * MiniLM, 0.61 for SPLADE: ../shared/models/MODELS.md) than on VNNI or ARM hosts. Stored as uint8
 * with the zero point moved by +128, every weight minus its zero point is the same integer, and
 * ONNX Runtime runs its u8u8 kernels, which cannot saturate. The reverse move makes a u8s8 model of
 * a u8u8 one (tests and the benchmark use it to stand in for hub exports). Pure.
 *
 * The edit is made on the protobuf wire format (protobufjs's reader and writer): only the weight
 * tensors, their zero points and the nodes that gain a zero point change; every other byte of the
 * model is kept as it is, fields this code does not know included.
 */
import protobuf from 'protobufjs/minimal.js';

/** ONNX TensorProto.DataType values. */
const UINT8 = 2;
const INT8 = 3;

export type WeightStorage = 'signed' | 'unsigned';

export type ShiftOutcome = { readonly model: Uint8Array; readonly tensors: number; readonly nodes: number } | { readonly skipped: string };

/** One field of a protobuf message: its number, wire type, and where its bytes are. */
interface Field {
  readonly field: number;
  readonly wire: number;
  /** Start of the tag. */
  readonly start: number;
  /** Start of the value (after the length, for length-delimited fields). */
  readonly valueStart: number;
  readonly end: number;
}

function fieldsOf(bytes: Uint8Array): Field[] {
  const reader = protobuf.Reader.create(bytes);
  const fields: Field[] = [];
  while (reader.pos < reader.len) {
    const start = reader.pos;
    const tag = reader.uint32();
    const wire = tag & 7;
    let valueStart = reader.pos;
    if (wire === 2) {
      const length = reader.uint32();
      valueStart = reader.pos;
      reader.skip(length);
    } else reader.skipType(wire);
    fields.push({ field: tag >>> 3, wire, start, valueStart, end: reader.pos });
  }
  return fields;
}

const contentOf = (bytes: Uint8Array, field: Field) => bytes.subarray(field.valueStart, field.end);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const varint = (bytes: Uint8Array, field: Field) => protobuf.Reader.create(contentOf(bytes, field)).int32();

/** A length-delimited field (a string, bytes or a message), encoded. */
function delimited(field: number, value: Uint8Array): Uint8Array {
  return protobuf.Writer.create()
    .uint32((field << 3) | 2)
    .bytes(value)
    .finish();
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

interface Tensor {
  readonly name: string;
  readonly type: number | undefined;
  readonly bytes: Uint8Array;
  readonly fields: Field[];
  readonly external: boolean;
}

function readTensor(bytes: Uint8Array): Tensor {
  const fields = fieldsOf(bytes);
  const name = fields.find((field) => field.field === 8);
  const type = fields.find((field) => field.field === 2);
  const location = fields.find((field) => field.field === 14);
  return {
    name: name ? text(contentOf(bytes, name)) : '',
    type: type ? varint(bytes, type) : undefined,
    bytes,
    fields,
    external: location !== undefined && varint(bytes, location) === 1,
  };
}

/** A tensor's 8-bit values, from raw_data or int32_data (packed or not). */
function valuesOf(tensor: Tensor): Uint8Array {
  const raw = tensor.fields.find((field) => field.field === 9);
  if (raw) return contentOf(tensor.bytes, raw);
  const values: number[] = [];
  for (const field of tensor.fields.filter((entry) => entry.field === 5)) {
    if (field.wire === 2) {
      const reader = protobuf.Reader.create(contentOf(tensor.bytes, field));
      while (reader.pos < reader.len) values.push(reader.int32());
    } else values.push(varint(tensor.bytes, field));
  }
  return Uint8Array.from(values, (value) => value & 0xff);
}

/** The tensor with its type and its values moved by 128 (raw_data); every other field kept. */
function shiftedTensor(tensor: Tensor, type: number): Uint8Array {
  const shifted = valuesOf(tensor).map((value) => value ^ 0x80);
  const kept = tensor.fields.filter((field) => field.field !== 2 && field.field !== 5 && field.field !== 9);
  return concat([...kept.map((field) => tensor.bytes.subarray(field.start, field.end)), dataTypeField(type), delimited(9, shifted)]);
}

/** TensorProto's data_type (field 2, a varint). */
function dataTypeField(type: number): Uint8Array {
  return protobuf.Writer.create()
    .uint32(2 << 3)
    .int32(type)
    .finish();
}

/** A scalar zero point of the target storage: 128 unsigned or -128 signed (a weight had none, so 0). */
function zeroPoint(name: string, type: number): Uint8Array {
  return concat([dataTypeField(type), delimited(8, new TextEncoder().encode(name)), delimited(9, Uint8Array.of(0x80))]);
}

interface Node {
  readonly op: string;
  readonly inputs: string[];
  readonly hasSubgraph: boolean;
}

function readNode(bytes: Uint8Array): Node {
  const fields = fieldsOf(bytes);
  const op = fields.find((field) => field.field === 4);
  return {
    op: op ? text(contentOf(bytes, op)) : '',
    inputs: fields.filter((field) => field.field === 1).map((field) => text(contentOf(bytes, field))),
    // AttributeProto g (6) and graphs (11): a subgraph could use the weights too.
    hasSubgraph: fields
      .filter((field) => field.field === 5)
      .some((field) => fieldsOf(contentOf(bytes, field)).some((inner) => inner.field === 6 || inner.field === 11)),
  };
}

/** The operators whose input 1 is a weight with its zero point at input 3. */
const INTEGER_OPS = new Set(['MatMulInteger', 'ConvInteger']);

/**
 * The model with the weights of its MatMulInteger/ConvInteger nodes stored `to` signed or unsigned,
 * and how many tensors and nodes changed (0 when there was nothing to move), or why it was left.
 * @example shiftInt8Weights(bytes, 'unsigned') // { model, tensors: 72, nodes: 36 } for a u8s8 MiniLM
 */
export function shiftInt8Weights(model: Uint8Array, to: WeightStorage): ShiftOutcome {
  const [from, target] = to === 'unsigned' ? [INT8, UINT8] : [UINT8, INT8];
  const modelFields = fieldsOf(model);
  const graphField = modelFields.find((field) => field.field === 7);
  if (!graphField) return { skipped: 'the file has no graph' };
  const graph = contentOf(model, graphField);
  const graphFields = fieldsOf(graph);
  const nodes = new Map<Field, Node>();
  const tensors = new Map<string, { field: Field; tensor: Tensor }>();
  const declared = new Set<string>();
  for (const field of graphFields) {
    if (field.field === 1) nodes.set(field, readNode(contentOf(graph, field)));
    if (field.field === 5) {
      const tensor = readTensor(contentOf(graph, field));
      tensors.set(tensor.name, { field, tensor });
    }
    // Graph inputs (11) and value_info (13) declare a type that must keep matching.
    if (field.field === 11 || field.field === 13) {
      const name = fieldsOf(contentOf(graph, field)).find((inner) => inner.field === 1);
      if (name) declared.add(text(contentOf(contentOf(graph, field), name)));
    }
  }
  if ([...nodes.values()].some((node) => node.hasSubgraph)) return { skipped: 'the graph has subgraphs' };

  const movable = (name: string | undefined) => {
    const entry = name ? tensors.get(name) : undefined;
    return entry !== undefined && entry.tensor.type === from && !entry.tensor.external && !declared.has(entry.tensor.name);
  };
  // Nodes whose weight (and zero point, if any) can move; then only tensors every use of which moves.
  let candidates = [...nodes.entries()].filter(
    ([, node]) => INTEGER_OPS.has(node.op) && movable(node.inputs[1]) && (!node.inputs[3] || movable(node.inputs[3])),
  );
  for (let changed = true; changed; ) {
    const roles = new Map<string, number>();
    for (const node of nodes.values())
      for (const [position, input] of node.inputs.entries()) {
        const moves = candidates.some(([, candidate]) => candidate === node) && (position === 1 || position === 3);
        roles.set(input, (roles.get(input) ?? 0) | (moves ? 1 : 2));
      }
    const kept = candidates.filter(([, node]) => roles.get(node.inputs[1]) === 1 && (!node.inputs[3] || roles.get(node.inputs[3]) === 1));
    changed = kept.length !== candidates.length;
    candidates = kept;
  }
  if (candidates.length === 0) return { model, tensors: 0, nodes: 0 };

  const shiftedNames = new Set(candidates.flatMap(([, node]) => [node.inputs[1], ...(node.inputs[3] ? [node.inputs[3]] : [])]));
  const added: Uint8Array[] = [];
  const extraInputs = new Map<Field, Uint8Array>();
  for (const [field, node] of candidates) {
    if (node.inputs[3]) continue;
    // A weight without a zero point had zero; after the move it is 128 (or -128).
    const name = `${node.inputs[1]}_zero_point_${to}`;
    if (!tensors.has(name) && !added.some((bytes) => readTensor(bytes).name === name)) added.push(zeroPoint(name, target));
    const inputs = [...(node.inputs.length < 3 ? [''] : []), name].map((input) => delimited(1, new TextEncoder().encode(input)));
    extraInputs.set(field, concat(inputs));
  }
  const parts: Uint8Array[] = [];
  for (const field of graphFields) {
    const whole = graph.subarray(field.start, field.end);
    if (field.field === 5) {
      const tensor = readTensor(contentOf(graph, field));
      parts.push(shiftedNames.has(tensor.name) ? delimited(5, shiftedTensor(tensor, target)) : whole);
    } else if (extraInputs.has(field)) {
      parts.push(delimited(1, concat([contentOf(graph, field), extraInputs.get(field) as Uint8Array])));
    } else parts.push(whole);
  }
  for (const tensor of added) parts.push(delimited(5, tensor));
  const newGraph = concat(parts);
  const out = concat(modelFields.map((field) => (field === graphField ? delimited(7, newGraph) : model.subarray(field.start, field.end))));
  return { model: out, tensors: shiftedNames.size + added.length, nodes: candidates.length };
}
